"""The knowledge base: loading the YAML folder into checked, immutable objects.

Every problem is collected with its file and line, so a coordinator sees all of them at
once (`wegwijzer kb validate`); errors refuse the whole knowledge base, warnings do not.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot._crisis_model import MODEL_FILE, CrisisModel, ModelProblem, load_model
from bot._text import fold
from bot._types import LANGS, ROLES, ContactMethod, Lang, Source
from bot._yaml import LineDict, LineList, YamlProblem, line_of, load_yaml_file

#: Largest number of entries and of YAML files read; beyond them the folder is refused.
MAX_ENTRIES = 20_000
MAX_FILES = 2_000
MIN_QUESTIONS = 5
AUDIENCES = ("employee", "vp", "manager")
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_METHOD_KINDS: tuple[Literal["phone", "email", "url", "teams", "matrix", "chat"], ...] = (
    "phone",
    "email",
    "url",
    "teams",
    "matrix",
    "chat",
)

#: Every user-facing text the engine needs, by key (texts.yaml must have each in nl and en).
REQUIRED_TEXTS = (
    "welcome",
    "help",
    "privacy",
    "forgotten",
    "unknown",
    "clarify",
    "invalid",
    "truncated",
    "menu",
    "theme",
    "talk_intro",
    "talk_result",
    "talk_no_org",
    "org_menu",
    "org_set",
    "org_unknown",
    "lang_set",
    "group",
    "group_open_direct",
    # Teams channel (adapters/teams/): room welcome, pictures, details button, app package.
    *("teams_welcome_shared", "teams_open_direct", "teams_attachment", "teams_sticker"),
    *("teams_attachment_note", "teams_details_show", "teams_app_name_short"),
    *("teams_app_name_full", "teams_app_description_short", "teams_app_description_full"),
    *(
        f"teams_command_{c}{h}"
        for c in ("menu", "talk", "org", "privacy", "forget", "help")
        for h in ("", "_help")
    ),
    # "Did this help?" (bot/_feedback.py).
    *("feedback_prompt", "feedback_hint", "feedback_yes", "feedback_no", "feedback_thanks"),
    "crisis",
    "crisis_talk",
    "crisis_unsure",
    "contacts_intro",
    "contacts_intro_no_org",
    "related_prompt",
    "disclaimer",
    "label_sources",
    "label_reviewed",
    "label_details",
    "label_contacts",
    "choice_menu",
    "choice_talk",
    "choice_org",
    "choice_help",
    "choice_privacy",
    "expired_choice",
)
COMMANDS = ("help", "menu", "talk", "privacy", "forget", "org", "lang_nl", "lang_en")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in the knowledge base, with where it is and what to do."""

    path: str
    line: int
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


class KnowledgeBaseError(Exception):
    """The knowledge base was refused; `problems` lists every error with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        first = str(errors[0]) if errors else "unknown problem"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"knowledge base refused: {first}{more}")


@dataclass(frozen=True, slots=True)
class EntryText:
    """One language version of an entry."""

    title: str
    answer: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    #: The professional block for counsellors: legal basis, deadlines, pitfalls, referral.
    details: str = ""


@dataclass(frozen=True, slots=True)
class Entry:
    """One question-and-answer entry."""

    id: str
    theme: str
    audience: tuple[str, ...]
    routes: tuple[str, ...]
    related: tuple[str, ...]
    reviewed: _dt.date
    owner: str
    sources: tuple[Source, ...]
    texts: Mapping[Lang, EntryText]
    path: str
    line: int

    def text(self, lang: Lang) -> EntryText:
        """The entry in `lang`, falling back to Dutch."""
        return self.texts.get(lang) or self.texts["nl"]


@dataclass(frozen=True, slots=True)
class Theme:
    id: str
    titles: Mapping[Lang, str]


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    names: Mapping[Lang, str]
    lines: Mapping[Lang, str]


@dataclass(frozen=True, slots=True)
class ContactInfo:
    """A national body or a named person in an organisation."""

    id: str
    roles: tuple[str, ...]
    names: Mapping[Lang, str]
    notes: Mapping[Lang, str]
    methods: tuple[ContactMethod, ...]
    languages: tuple[str, ...] = ()
    locations: Mapping[Lang, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    example: bool
    names: Mapping[Lang, str]
    aliases: tuple[str, ...]
    contacts: tuple[ContactInfo, ...]


@dataclass(frozen=True, slots=True)
class TriageOption:
    """One answer to "what is it about?" in the talk-to-someone guide."""

    id: str
    roles: tuple[str, ...]
    labels: Mapping[Lang, str]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Everything the engine knows, loaded and checked. Immutable: reloads build a new one."""

    root: Path
    entries: tuple[Entry, ...]
    themes: tuple[Theme, ...]
    roles: Mapping[str, Role]
    national: tuple[ContactInfo, ...]
    organisations: tuple[Organisation, ...]
    synonyms: tuple[tuple[str, ...], ...]
    crisis: Mapping[Lang, tuple[str, ...]]
    crisis_exclusions: Mapping[Lang, tuple[str, ...]]
    #: Word groups that signal a crisis together: per rule, groups of alternatives.
    crisis_together: Mapping[Lang, tuple[tuple[tuple[str, ...], ...], ...]]
    #: Learned second opinion on crises (crisis_model.json), if the folder has one.
    crisis_model: CrisisModel | None
    external_triggers: Mapping[Lang, tuple[str, ...]]
    triage: tuple[TriageOption, ...]
    texts: Mapping[str, Mapping[Lang, str]]
    commands: Mapping[str, tuple[str, ...]]
    warnings: tuple[Problem, ...]
    fingerprint: str

    @property
    def by_id(self) -> Mapping[str, Entry]:
        return {e.id: e for e in self.entries}

    def text(self, key: str, lang: Lang, **values: object) -> str:
        """A user-facing text in `lang`, with `{placeholders}` filled in."""
        template = self.texts[key].get(lang) or self.texts[key]["nl"]
        return template.format_map(_Defaulting(values)) if values else template


class _Defaulting(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# --------------------------------------------------------------------------- loading


def knowledge_files(root: Path) -> list[Path]:
    """Every YAML file of a knowledge folder, in a stable order."""
    return sorted(p for p in root.rglob("*.yaml") if p.is_file())


def fingerprint(root: Path) -> str:
    """A cheap fingerprint of the folder (names, sizes, mtimes) for change detection."""
    h = hashlib.sha256()
    model = root / MODEL_FILE
    for p in [*knowledge_files(root), *([model] if model.is_file() else [])]:
        st = p.stat()
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def load_knowledge_base(root: Path, *, today: _dt.date | None = None) -> KnowledgeBase:
    """Load and check a knowledge folder.

    Raises:
        KnowledgeBaseError: When there is any error; it lists all of them.
    """
    loader = _Loader(root, today or _dt.date.today())
    return loader.load()


class _Loader:
    def __init__(self, root: Path, today: _dt.date) -> None:
        self.root = root
        self.today = today
        self.problems: list[Problem] = []
        # crisis.yaml and routing.yaml each hold several blocks: read (and report) once.
        self._read: dict[Path, Any] = {}

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

    # -- the parts

    def load(self) -> KnowledgeBase:
        root = self.root
        if not root.is_dir():
            raise KnowledgeBaseError([Problem(str(root), 0, "the knowledge folder does not exist")])
        files = knowledge_files(root)
        if len(files) > MAX_FILES:
            raise KnowledgeBaseError(
                [Problem(str(root), 0, f"{len(files)} files; the limit is {MAX_FILES}")]
            )
        roles = self.load_roles(root / "roles.yaml")
        themes = self.load_themes(root / "themes.yaml")
        texts, commands = self.load_texts(root / "texts.yaml")
        national = self.load_contacts(root / "contacts.yaml", roles)
        organisations = self.load_organisations(root / "organisations", roles)
        synonyms = self.load_synonyms(root / "synonyms")
        crisis, exclusions = self.load_phrases(root / "crisis.yaml", "crisis", "not_crisis")
        together = self.load_together(root / "crisis.yaml")
        crisis_model = self.load_crisis_model(root / MODEL_FILE)
        external, _ = self.load_phrases(root / "routing.yaml", "external_vp", None)
        triage = self.load_triage(root / "routing.yaml", roles)
        entries = self.load_entries(root / "entries", roles, {t.id for t in themes})
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            raise KnowledgeBaseError(self.problems)
        return KnowledgeBase(
            root=root,
            entries=tuple(entries),
            themes=tuple(themes),
            roles=roles,
            national=tuple(national),
            organisations=tuple(organisations),
            synonyms=tuple(synonyms),
            crisis=crisis,
            crisis_exclusions=exclusions,
            crisis_together=together,
            crisis_model=crisis_model,
            external_triggers=external,
            triage=tuple(triage),
            texts=texts,
            commands=commands,
            warnings=tuple(self.problems),
            fingerprint=fingerprint(root),
        )

    def load_crisis_model(self, path: Path) -> CrisisModel | None:
        try:
            return load_model(path)
        except ModelProblem as exc:
            rebuild = "rebuild it with `wegwijzer kb train-crisis`"
            self.error(path, exc.line, f"{exc.message}; {rebuild}")
            return None

    def load_roles(self, path: Path) -> dict[str, Role]:
        block = self.read_block(path, "roles", dict)
        out: dict[str, Role] = {}
        if block is None:
            return out
        for rid, value in block.items():
            if rid not in ROLES:
                self.error(path, block.line_of(rid), f"unknown role id '{rid}' (ids are fixed)")
                continue
            if not isinstance(value, LineDict):
                self.error(path, block.line_of(rid), f"role '{rid}' needs nl and en blocks")
                continue
            names: dict[Lang, str] = {}
            lines: dict[Lang, str] = {}
            for lang in LANGS:
                sub = value.get(lang)
                if not isinstance(sub, LineDict):
                    self.error(path, value.line, f"role '{rid}' has no '{lang}' block")
                    continue
                names[lang] = self.text_field(path, sub, "name")
                lines[lang] = self.text_field(path, sub, "line")
            out[rid] = Role(rid, names, lines)
        for rid in ROLES:
            if rid not in out and block.get(rid) is None:
                self.error(path, block.line, f"role '{rid}' is missing")
        return out

    def load_themes(self, path: Path) -> list[Theme]:
        items = self.read_block(path, "themes", list)
        out: list[Theme] = []
        seen: set[str] = set()
        for i, item in enumerate(items or []):
            if not isinstance(item, LineDict):
                self.error(path, items.line_at(i), "each theme needs id, nl and en")
                continue
            tid = self.text_field(path, item, "id")
            if tid in seen:
                self.error(path, item.line, f"theme id '{tid}' is used twice")
            seen.add(tid)
            titles = {lang: self.text_field(path, item, lang) for lang in LANGS}
            out.append(Theme(tid, titles))
        return out

    def load_texts(
        self, path: Path
    ) -> tuple[dict[str, dict[Lang, str]], dict[str, tuple[str, ...]]]:
        if not path.is_file():
            self.error(path, 0, "this file is missing")
            return {}, {}
        data = self.read(path)
        if not isinstance(data, LineDict):
            if data is not None:
                self.error(path, 1, "the file must have 'texts:' and 'commands:' blocks")
            return {}, {}
        texts: dict[str, dict[Lang, str]] = {}
        block = data.get("texts")
        if not isinstance(block, LineDict):
            self.error(path, data.line_of("texts"), "'texts:' must be a block of keys")
        else:
            for key in block:
                texts[key] = self.lang_map(path, block, key)
                for lang, value in texts[key].items():
                    try:
                        value.format_map(_Defaulting())
                    except (ValueError, IndexError):
                        self.error(
                            path,
                            block.line_of(key),
                            f"'{key}' ({lang}) has a broken {{placeholder}}: "
                            "use {name}, and {{ or }} for a literal brace",
                        )
            for key in REQUIRED_TEXTS:
                if key not in block:
                    self.error(path, block.line, f"the text '{key}' is missing")
        commands: dict[str, tuple[str, ...]] = {}
        cblock = data.get("commands")
        if not isinstance(cblock, LineDict):
            self.error(path, data.line_of("commands"), "'commands:' must be a block of keys")
        else:
            for key in cblock:
                if key not in COMMANDS:
                    self.error(
                        path,
                        cblock.line_of(key),
                        f"unknown command '{key}' ({', '.join(COMMANDS)})",
                    )
                commands[key] = tuple(self.word_list(path, cblock, key))
            for key in COMMANDS:
                if key not in cblock:
                    self.error(path, cblock.line, f"the command '{key}' is missing")
        return texts, commands

    def contact_methods(self, path: Path, block: LineDict) -> list[ContactMethod]:
        methods: list[ContactMethod] = []
        for kind in _METHOD_KINDS:
            for value in self.word_list(path, block, kind, required=False):
                methods.append(ContactMethod(kind=kind, value=value))
        return methods

    def load_contacts(self, path: Path, roles: Mapping[str, Role]) -> list[ContactInfo]:
        items = self.read_block(path, "contacts", list)
        out: list[ContactInfo] = []
        allowed = {"id", "roles", "name", "note", *_METHOD_KINDS}
        seen: set[str] = set()
        for i, item in enumerate(items or []):
            if not isinstance(item, LineDict):
                self.error(path, items.line_at(i), "each contact must be a block of keys")
                continue
            self.unknown_keys(path, item, allowed, "a contact")
            cid = self.text_field(path, item, "id")
            if cid in seen:
                self.error(path, item.line, f"contact id '{cid}' is used twice")
            seen.add(cid)
            methods = self.contact_methods(path, item)
            if not methods:
                self.error(
                    path,
                    item.line,
                    f"contact '{cid}' has no way to reach it (phone, email, url, ...)",
                )
            out.append(
                ContactInfo(
                    id=cid,
                    roles=tuple(self.roles(path, item, "roles", roles)),
                    names=self.lang_map(path, item, "name"),
                    notes=self.lang_map(path, item, "note", required=False),
                    methods=tuple(methods),
                )
            )
        return out

    def load_organisations(self, folder: Path, roles: Mapping[str, Role]) -> list[Organisation]:
        out: list[Organisation] = []
        seen: set[str] = set()
        allowed_org = {"id", "example", "name", "aliases", "contacts"}
        allowed_person = {"name", "roles", "languages", "location", "note", *_METHOD_KINDS}
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            data = self.read(path)
            if data is None:
                continue
            if not isinstance(data, LineDict):
                self.error(path, 1, "an organisation file is a block with id, name and contacts")
                continue
            self.unknown_keys(path, data, allowed_org, "an organisation")
            oid = self.text_field(path, data, "id")
            if oid in seen:
                self.error(path, data.line, f"organisation id '{oid}' is used twice")
            seen.add(oid)
            example = data.get("example", False)
            if not isinstance(example, bool):
                self.error(path, data.line_of("example"), "'example' must be true or false")
                example = True
            people: list[ContactInfo] = []
            contacts = data.get("contacts")
            if not isinstance(contacts, LineList) or not contacts:
                self.error(path, data.line_of("contacts"), "'contacts' must be a list of people")
                contacts = LineList()
            for i, person in enumerate(contacts):
                if not isinstance(person, LineDict):
                    self.error(path, contacts.line_at(i), "each contact must be a block of keys")
                    continue
                self.unknown_keys(path, person, allowed_person, "a contact")
                name = self.text_field(path, person, "name")
                methods = self.contact_methods(path, person)
                if not methods:
                    self.error(
                        path, person.line, f"'{name}' has no way to reach them (email, phone, ...)"
                    )
                languages = self.word_list(path, person, "languages", required=False)
                loc = self.lang_map(path, person, "location", required=False)
                people.append(
                    ContactInfo(
                        id=f"{oid}:{i}",
                        roles=tuple(self.roles(path, person, "roles", roles)),
                        names={"nl": name, "en": name},
                        notes=self.lang_map(path, person, "note", required=False),
                        methods=tuple(methods),
                        languages=tuple(languages),
                        locations=loc,
                    )
                )
            aliases = [a.lower() for a in self.word_list(path, data, "aliases", required=False)]
            out.append(
                Organisation(
                    id=oid,
                    example=example,
                    names=self.lang_map(path, data, "name"),
                    aliases=tuple([oid, *aliases]),
                    contacts=tuple(people),
                )
            )
        return out

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

    def load_together(self, path: Path) -> dict[Lang, tuple[tuple[tuple[str, ...], ...], ...]]:
        """Crisis rules such as `pillen|tabletten + gespaard|overdosis`: every group (split
        by "+") must occur near the others; a group is alternatives split by "|"."""
        out: dict[Lang, tuple[tuple[tuple[str, ...], ...], ...]] = {}
        data = self.read(path)
        block = data.get("together") if isinstance(data, LineDict) else None
        if block is None:
            return out
        if not isinstance(block, LineDict):
            self.error(path, line_of(block), "'together' must hold 'nl' and 'en' lists")
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

    def load_triage(self, path: Path, roles: Mapping[str, Role]) -> list[TriageOption]:
        items = self.read_block(path, "triage", list)
        out: list[TriageOption] = []
        for i, item in enumerate(items or []):
            if not isinstance(item, LineDict):
                self.error(path, items.line_at(i), "each triage option needs id, roles, nl and en")
                continue
            self.unknown_keys(path, item, {"id", "roles", *LANGS}, "a triage option")
            out.append(
                TriageOption(
                    id=self.text_field(path, item, "id"),
                    roles=tuple(self.roles(path, item, "roles", roles)),
                    labels={lang: self.text_field(path, item, lang) for lang in LANGS},
                )
            )
        return out

    def load_entries(
        self, folder: Path, roles: Mapping[str, Role], themes: set[str]
    ) -> list[Entry]:
        entries: list[Entry] = []
        where: dict[str, tuple[Path, int]] = {}
        question_owner: dict[str, tuple[str, Path, int]] = {}
        related_refs: list[tuple[Path, int, str, str]] = []
        allowed = {
            "id",
            "theme",
            "audience",
            "routes",
            "related",
            "reviewed",
            "owner",
            "sources",
            *LANGS,
        }
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if not files:
            self.error(folder, 0, "no entry files (entries/*.yaml)")
        for path in files:
            items = self.read_block(path, "entries", list)
            for i, item in enumerate(items or []):
                if len(entries) >= MAX_ENTRIES:
                    self.error(path, items.line_at(i), f"more than {MAX_ENTRIES} entries")
                    break
                if not isinstance(item, LineDict):
                    self.error(path, items.line_at(i), "each entry must be a block of keys")
                    continue
                entry = self.load_entry(path, item, allowed, roles, themes)
                if entry is None:
                    continue
                if entry.id in where:
                    p, ln = where[entry.id]
                    self.error(
                        path, item.line, f"id '{entry.id}' is already used at {self._rel(p)}:{ln}"
                    )
                    continue
                where[entry.id] = (path, item.line)
                for lang, t in entry.texts.items():
                    for q in t.questions:
                        key = f"{lang}:{' '.join(q.lower().split())}"
                        if key in question_owner and question_owner[key][0] != entry.id:
                            other, p, ln = question_owner[key]
                            self.error(
                                path,
                                item.line,
                                f"the question '{q}' is also in entry '{other}' "
                                f"({self._rel(p)}:{ln}); keep it in one entry",
                            )
                        question_owner.setdefault(key, (entry.id, path, item.line))
                related_refs.extend(
                    (path, item.line_of("related"), entry.id, r) for r in entry.related
                )
                entries.append(entry)
        for path, line, eid, ref in related_refs:
            if ref not in where:
                self.error(path, line, f"entry '{eid}' lists related '{ref}', which does not exist")
            elif ref == eid:
                self.error(path, line, f"entry '{eid}' lists itself as related")
        return entries

    def load_entry(
        self,
        path: Path,
        item: LineDict,
        allowed: set[str],
        roles: Mapping[str, Role],
        themes: set[str],
    ) -> Entry | None:
        self.unknown_keys(path, item, allowed, "an entry")
        eid = self.text_field(path, item, "id")
        if not eid:
            return None
        if not _ID_RE.match(eid):
            self.error(
                path, item.line_of("id"), f"id '{eid}': use lowercase letters, digits and hyphens"
            )
        theme = self.text_field(path, item, "theme")
        if theme and theme not in themes:
            self.error(path, item.line_of("theme"), f"theme '{theme}' is not in themes.yaml")
        audience = self.word_list(path, item, "audience")
        for a in audience:
            if a not in AUDIENCES:
                self.error(
                    path, item.line_of("audience"), f"audience '{a}' (use {', '.join(AUDIENCES)})"
                )
        routes = self.roles(path, item, "routes", roles)
        related = self.word_list(path, item, "related", required=False)
        reviewed = item.get("reviewed")
        if not isinstance(reviewed, _dt.date):
            self.error(path, item.line_of("reviewed"), "'reviewed' must be a date like 2026-01-31")
            reviewed = _dt.date.min
        elif reviewed > self.today:
            self.error(path, item.line_of("reviewed"), "'reviewed' is in the future")
        elif (self.today - reviewed).days > 365:
            self.warn(
                path,
                item.line_of("reviewed"),
                f"entry '{eid}' was not reviewed in the last 12 months",
            )
        owner = self.text_field(path, item, "owner")
        sources = self.load_sources(path, item)
        texts: dict[Lang, EntryText] = {}
        for lang in LANGS:
            block = item.get(lang)
            if block is None:
                if lang == "nl":
                    self.error(path, item.line, f"entry '{eid}' has no 'nl' block")
                else:
                    self.warn(path, item.line, f"entry '{eid}' has no '{lang}' translation")
                continue
            if not isinstance(block, LineDict):
                self.error(
                    path,
                    item.line_of(lang),
                    f"'{lang}' must be a block with title, answer, questions",
                )
                continue
            self.unknown_keys(
                path, block, {"title", "answer", "details", "questions", "keywords"}, f"'{lang}'"
            )
            questions = self.word_list(path, block, "questions")
            if len(questions) < MIN_QUESTIONS:
                self.error(
                    path,
                    block.line_of("questions"),
                    f"entry '{eid}' ({lang}) has {len(questions)} questions; "
                    f"give at least {MIN_QUESTIONS}",
                )
            texts[lang] = EntryText(
                title=self.text_field(path, block, "title"),
                answer=_tidy_answer(self.text_field(path, block, "answer")),
                questions=tuple(questions),
                keywords=tuple(self.word_list(path, block, "keywords", required=False)),
                details=_tidy_answer(self.text_field(path, block, "details", required=False)),
            )
        if "nl" not in texts:
            return None
        return Entry(
            id=eid,
            theme=theme,
            audience=tuple(audience),
            routes=tuple(routes),
            related=tuple(related),
            reviewed=reviewed,
            owner=owner,
            sources=tuple(sources),
            texts=texts,
            path=self._rel(path),
            line=item.line,
        )

    def load_sources(self, path: Path, item: LineDict) -> list[Source]:
        raw = item.get("sources")
        if not isinstance(raw, list) or not raw:
            self.error(
                path, item.line_of("sources"), "'sources' needs at least one source (title and url)"
            )
            return []
        out: list[Source] = []
        for i, s in enumerate(raw):
            line = raw.line_at(i) if isinstance(raw, LineList) else item.line
            if not isinstance(s, LineDict):
                self.error(path, line, "a source is a block with title, url and (optional) article")
                continue
            self.unknown_keys(path, s, {"title", "url", "article"}, "a source")
            title = self.text_field(path, s, "title")
            url = self.text_field(path, s, "url")
            if url and not url.startswith(("https://", "http://")):
                self.error(path, s.line_of("url"), f"url '{url}' must start with https://")
            out.append(Source(title, url, self.text_field(path, s, "article", required=False)))
        return out


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
