"""Reading YAML blocks into checked values, with every problem's file and line.

`Reader.record` reads the fields of a schema dataclass (bot/_schema.py) from one block:
the allowed keys, the way each value is read and the error messages all follow from the
field's `Key`. The loader (bot/_kb.py) adds what one field alone cannot check.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot._schema import METHOD_KINDS, Key, Problem, allowed_keys, keys
from bot._text import fold
from bot._types import LANGS, ROLES, ContactMethod, Lang
from bot._yaml import LineDict, LineList, YamlProblem, line_of, load_yaml_file


class Reader:
    def __init__(self, root: Path, today: _dt.date) -> None:
        self.root = root
        self.today = today
        self.problems: list[Problem] = []
        # crisis.yaml and routing.yaml each hold several blocks: read (and report) once.
        self._read: dict[Path, Any] = {}
        #: Role ids loaded from roles.yaml; a `roles` field accepts only these.
        self.role_ids: frozenset[str] = frozenset()

    # -- reporting

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def error(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self._rel(path), line, message))

    def warn(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self._rel(path), line, message, "warning"))

    def read(self, path: Path) -> Any:
        if path not in self._read:
            try:
                self._read[path] = load_yaml_file(path)
            except YamlProblem as exc:
                self.error(path, exc.line, exc.message)
                self._read[path] = None
        return self._read[path]

    def read_block(self, path: Path, key: str, kind: type) -> Any:
        """Read a file whose top level is a mapping holding `key` of type `kind`."""
        if not path.is_file():
            self.error(path, 0, "this file is missing")
            return None
        data = self.read(path)
        if data is None:
            return None
        if not isinstance(data, LineDict) or key not in data:
            self.error(path, line_of(data, 1), f"the file must start with '{key}:'")
            return None
        value = data[key]
        if not isinstance(value, kind):
            want = "a list (lines starting with '- ')" if kind is list else "a block of keys"
            self.error(path, data.line_of(key), f"'{key}' must be {want}")
            return None
        return value

    # -- small field readers

    def text_field(self, path: Path, block: LineDict, key: str, *, required: bool = True) -> str:
        value = block.get(key)
        if value is None:
            if required:
                self.error(path, block.line, f"'{key}' is missing")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.error(path, block.line_of(key), f"'{key}' must be text")
            return ""
        text = str(value).strip()
        if required and not text:
            self.error(path, block.line_of(key), f"'{key}' is empty")
        return text

    def word_list(
        self, path: Path, block: LineDict, key: str, *, required: bool = True
    ) -> list[str]:
        value = block.get(key)
        if value is None:
            if required:
                self.error(path, block.line, f"'{key}' is missing")
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.error(path, block.line_of(key), f"'{key}' must be a list, e.g. [a, b]")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
                line = value.line_at(i) if isinstance(value, LineList) else block.line_of(key)
                self.error(path, line, f"item {i + 1} of '{key}' must be non-empty text")
                continue
            out.append(str(item).strip())
        return out

    def lang_map(
        self, path: Path, block: LineDict, key: str, *, required: bool = True
    ) -> dict[Lang, str]:
        value = block.get(key)
        if value is None:
            if required:
                self.error(path, block.line, f"'{key}' is missing (give 'nl' and 'en')")
            return {}
        if isinstance(value, str):
            return {"nl": value.strip(), "en": value.strip()}
        if not isinstance(value, LineDict):
            self.error(path, block.line_of(key), f"'{key}' must have 'nl' and 'en'")
            return {}
        out: dict[Lang, str] = {}
        for lang in LANGS:
            text = value.get(lang)
            if isinstance(text, str) and text.strip():
                out[lang] = text.strip()
            elif required:
                self.error(path, value.line, f"'{key}' has no '{lang}' text")
        for extra in set(value) - set(LANGS):
            self.error(path, value.line_of(extra), f"'{key}' has unknown language '{extra}'")
        return out

    def unknown_keys(self, path: Path, block: LineDict, allowed: Iterable[str], what: str) -> None:
        for key in block:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                self.error(
                    path, block.line_of(key), f"unknown key '{key}' in {what} (known: {hint})"
                )

    def roles(self, path: Path, block: LineDict, key: str, known: Iterable[str]) -> list[str]:
        roles = self.word_list(path, block, key)
        known_set = set(known)
        for r in roles:
            if r not in known_set:
                self.error(
                    path, block.line_of(key), f"unknown role '{r}' (known: {', '.join(ROLES)})"
                )
        return [r for r in roles if r in known_set]

    def contact_methods(self, path: Path, block: LineDict) -> list[ContactMethod]:
        methods: list[ContactMethod] = []
        for kind in METHOD_KINDS:
            for value in self.word_list(path, block, kind, required=False):
                methods.append(ContactMethod(kind=kind, value=value))
        return methods

    # -- one schema record

    def record(
        self, cls: type, path: Path, block: LineDict, what: str, skip: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The values of `cls`'s YAML fields in `block`, by field name; unknown keys and
        bad values are reported. `records` and `blocks` fields are left to the caller."""
        self.unknown_keys(path, block, allowed_keys(cls, skip), what)
        return {
            name: self.read_value(path, block, k)
            for name, k in keys(cls, skip)
            if k.kind not in ("records", "blocks")
        }

    def read_value(self, path: Path, block: LineDict, k: Key) -> Any:
        """One field's value, read as its `Key.kind` says."""
        name, required = k.name, k.required
        match k.kind:
            case "text":
                text = self.text_field(path, block, name, required=required)
                return _tidy_answer(text) if k.tidy else text
            case "words":
                words = self.word_list(path, block, name, required=required)
                for w in words:
                    if k.choices and w not in k.choices:
                        self.error(
                            path, block.line_of(name), f"{name} '{w}' (use {', '.join(k.choices)})"
                        )
                return tuple(words)
            case "roles":
                return tuple(self.roles(path, block, name, self.role_ids))
            case "langs":
                return self.lang_map(path, block, name, required=required)
            case "lang":
                return {lang: self.text_field(path, block, lang) for lang in LANGS}
            case "methods":
                return tuple(self.contact_methods(path, block))
            case "date":
                value = block.get(name)
                if isinstance(value, _dt.date):
                    return value
                if value is not None or required:
                    self.error(
                        path, block.line_of(name), f"'{name}' must be a date like 2026-01-31"
                    )
                return _dt.date.min
            case "bool":
                value = block.get(name, False)
                if isinstance(value, bool):
                    return value
                self.error(path, block.line_of(name), f"'{name}' must be true or false")
                # An unreadable flag is taken as set: for `example`, the safe side.
                return True
        raise ValueError(f"{k.kind} fields are read by the loader")

    # -- word lists: synonyms, crisis and routing phrases

    def load_synonyms(self, folder: Path) -> list[tuple[str, ...]]:
        groups: list[tuple[str, ...]] = []
        owner: dict[str, tuple[Path, int]] = {}
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            items = self.read_block(path, "synonyms", list)
            for i, item in enumerate(items or []):
                line = items.line_at(i)
                if not isinstance(item, list) or len(item) < 2:
                    self.error(path, line, "each synonym group is a list of two or more words")
                    continue
                words = [str(w).strip().lower() for w in item if isinstance(w, str | int)]
                if len(words) != len(item) or not all(words):
                    self.error(path, line, "synonyms must be non-empty text")
                    continue
                for w in words:
                    if w in owner and owner[w] != (path, line):
                        p, ln = owner[w]
                        self.warn(
                            path,
                            line,
                            f"'{w}' is also in a group at {self._rel(p)}:{ln}; "
                            "the first group wins",
                        )
                    owner.setdefault(w, (path, line))
                groups.append(tuple(words))
        return groups

    def load_phrases(
        self, path: Path, key: str, exclude_key: str | None
    ) -> tuple[dict[Lang, tuple[str, ...]], dict[Lang, tuple[str, ...]]]:
        block = self.read_block(path, key, dict)
        phrases: dict[Lang, tuple[str, ...]] = {}
        excl: dict[Lang, tuple[str, ...]] = {}
        if block is None:
            return phrases, excl
        for lang in LANGS:
            phrases[lang] = tuple(self.word_list(path, block, lang))
        if exclude_key is not None:
            data = self.read(path)
            eblock = data.get(exclude_key) if isinstance(data, LineDict) else None
            if isinstance(eblock, LineDict):
                for lang in LANGS:
                    excl[lang] = tuple(self.word_list(path, eblock, lang, required=False))
        return phrases, excl

    def optional_block(self, path: Path, key: str, holds: str) -> LineDict | None:
        """The optional top-level block `key` of a file; None (and an error if it is there
        but not a block) otherwise."""
        data = self.read(path)
        block = data.get(key) if isinstance(data, LineDict) else None
        if block is None or isinstance(block, LineDict):
            return block
        self.error(path, line_of(block), f"'{key}' must hold {holds}")
        return None

    def load_together(self, path: Path) -> dict[Lang, tuple[tuple[tuple[str, ...], ...], ...]]:
        """Crisis rules such as `pillen|tabletten + gespaard|overdosis`: every group (split
        by "+") must occur near the others; a group is alternatives split by "|"."""
        out: dict[Lang, tuple[tuple[tuple[str, ...], ...], ...]] = {}
        block = self.optional_block(path, "together", "'nl' and 'en' lists")
        if block is None:
            return out
        for lang in LANGS:
            items = block.get(lang)
            rules: list[tuple[tuple[str, ...], ...]] = []
            for i, rule in enumerate(self.word_list(path, block, lang, required=False)):
                line = items.line_at(i) if isinstance(items, LineList) else block.line_of(lang)
                groups = tuple(
                    tuple(alt for a in group.split("|") if (alt := fold(a)))
                    for group in rule.split("+")
                )
                if len(groups) < 2 or not all(groups):
                    self.error(
                        path,
                        line,
                        f"'{rule}' needs two or more word groups joined by '+', each with "
                        "words joined by '|', e.g. 'pillen|tabletten + gespaard|overdosis'",
                    )
                    continue
                rules.append(groups)
            out[lang] = tuple(rules)
        return out

    def load_work_scope(self, path: Path) -> dict[Lang, dict[str, tuple[str, ...]]]:
        """crisis.yaml `work_scope`: per language, the lists `binders`, `objects`, `people`,
        `beyond` and `asks` (all optional; no block means no scoping)."""
        out: dict[Lang, dict[str, tuple[str, ...]]] = {}
        block = self.optional_block(path, "work_scope", "'nl' and 'en' blocks")
        if block is None:
            return out
        for lang in LANGS:
            sub = block.get(lang)
            if sub is None:
                continue
            if not isinstance(sub, LineDict):
                self.error(path, block.line_of(lang), f"'work_scope: {lang}' must hold word lists")
                continue
            unknown = set(sub) - set(SCOPE_LISTS)
            for key in sorted(unknown):
                self.error(
                    path, sub.line_of(key), f"'{key}' is not one of {', '.join(SCOPE_LISTS)}"
                )
            out[lang] = {
                key: tuple(fold(w) for w in self.word_list(path, sub, key, required=False))
                for key in SCOPE_LISTS
            }
        return out


#: The word lists of crisis.yaml `work_scope` (see bot/_crisis.py, WorkScope).
SCOPE_LISTS = ("binders", "objects", "people", "beyond", "asks")


def _tidy_answer(text: str) -> str:
    """Join hard-wrapped lines inside a paragraph; keep blank lines and list items."""
    paragraphs: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for raw in para.splitlines():
            line = raw.strip()
            if not line:
                continue
            if (lines and not line.startswith("- ") and not lines[-1].startswith("- ")) or (
                lines and lines[-1].startswith("- ") and not line.startswith("- ")
            ):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)
