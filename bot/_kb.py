"""The knowledge base: loading the YAML folder into checked, immutable objects.

Every problem is collected with its file and line, so a coordinator sees all of them at
once (`wegwijzer kb validate`); errors refuse the whole knowledge base, warnings do not.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot._crisis_model import MODEL_FILE, CrisisModel, ModelProblem, load_model
from bot._kbread import Reader
from bot._schema import (
    AUDIENCES,
    COMMANDS,
    REQUIRED_TEXTS,
    ContactInfo,
    Defaulting,
    Entry,
    EntryText,
    KnowledgeBase,
    KnowledgeBaseError,
    Organisation,
    Problem,
    Role,
    RoleText,
    SourceRecord,
    Theme,
    TriageOption,
)
from bot._types import LANGS, ROLES, Lang, Source
from bot._yaml import LineDict, LineList

# The record types live in bot/_schema.py; they are re-exported here for the engine.
__all__ = [
    "AUDIENCES",
    "COMMANDS",
    "MAX_ENTRIES",
    "MAX_FILES",
    "MIN_QUESTIONS",
    "REQUIRED_TEXTS",
    "ContactInfo",
    "Entry",
    "EntryText",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Organisation",
    "Problem",
    "Role",
    "Theme",
    "TriageOption",
    "fingerprint",
    "knowledge_files",
    "load_knowledge_base",
]

#: Largest number of entries and of YAML files read; beyond them the folder is refused.
MAX_ENTRIES = 50_000
MAX_FILES = 2_000
MIN_QUESTIONS = 5
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

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


class _Loader(Reader):
    """Reads the whole folder: one method per file or folder, in a fixed order."""

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
        scope = self.load_work_scope(root / "crisis.yaml")
        crisis_model = self.load_crisis_model(root / MODEL_FILE)
        external, _ = self.load_phrases(root / "routing.yaml", "external_vp", None)
        triage = self.load_triage(root / "routing.yaml", roles)
        claims = _Claims()
        entries = self.load_entries(root / "entries", roles, {t.id for t in themes}, claims)
        elsewhere = self.load_elsewhere(root / "elsewhere.yaml", claims)
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
            elsewhere=tuple(elsewhere),
            crisis_scope=scope,
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
                text = RoleText(**self.record(RoleText, path, sub, f"role '{rid}' ({lang})"))
                names[lang], lines[lang] = text.name, text.line
            out[rid] = Role(rid, names, lines)
        for rid in ROLES:
            if rid not in out and block.get(rid) is None:
                self.error(path, block.line, f"role '{rid}' is missing")
        self.role_ids = frozenset(out)
        return out

    def load_themes(self, path: Path) -> list[Theme]:
        items = self.read_block(path, "themes", list)
        out: list[Theme] = []
        seen: set[str] = set()
        for i, item in enumerate(items or []):
            if not isinstance(item, LineDict):
                self.error(path, items.line_at(i), "each theme needs id, nl and en")
                continue
            theme = Theme(**self.record(Theme, path, item, "a theme"))
            if theme.id in seen:
                self.error(path, item.line, f"theme id '{theme.id}' is used twice")
            seen.add(theme.id)
            out.append(theme)
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
                        value.format_map(Defaulting())
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

    def load_contacts(self, path: Path, roles: Mapping[str, Role]) -> list[ContactInfo]:
        items = self.read_block(path, "contacts", list)
        out: list[ContactInfo] = []
        seen: set[str] = set()
        for i, item in enumerate(items or []):
            if not isinstance(item, LineDict):
                self.error(path, items.line_at(i), "each contact must be a block of keys")
                continue
            contact = ContactInfo(**self.record(ContactInfo, path, item, "a contact"))
            if contact.id in seen:
                self.error(path, item.line, f"contact id '{contact.id}' is used twice")
            seen.add(contact.id)
            if not contact.methods:
                self.error(
                    path,
                    item.line,
                    f"contact '{contact.id}' has no way to reach it (phone, email, url, ...)",
                )
            out.append(contact)
        return out

    def load_organisations(self, folder: Path, roles: Mapping[str, Role]) -> list[Organisation]:
        out: list[Organisation] = []
        seen: set[str] = set()
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            data = self.read(path)
            if data is None:
                continue
            if not isinstance(data, LineDict):
                self.error(path, 1, "an organisation file is a block with id, name and contacts")
                continue
            values = self.record(Organisation, path, data, "an organisation")
            oid = values["id"]
            if oid in seen:
                self.error(path, data.line, f"organisation id '{oid}' is used twice")
            seen.add(oid)
            contacts = data.get("contacts")
            if not isinstance(contacts, LineList) or not contacts:
                self.error(path, data.line_of("contacts"), "'contacts' must be a list of people")
                contacts = LineList()
            people: list[ContactInfo] = []
            for i, person in enumerate(contacts):
                if not isinstance(person, LineDict):
                    self.error(path, contacts.line_at(i), "each contact must be a block of keys")
                    continue
                # A person's id is where they stand in the file; they have no id key.
                fields = self.record(ContactInfo, path, person, "a contact", _NO_ID)
                contact = ContactInfo(id=f"{oid}:{i}", **fields)
                if not contact.methods:
                    name = contact.names.get("nl", "")
                    self.error(
                        path, person.line, f"'{name}' has no way to reach them (email, phone, ...)"
                    )
                people.append(contact)
            aliases = tuple(a.lower() for a in values.pop("aliases"))
            out.append(Organisation(**values, aliases=(oid, *aliases), contacts=tuple(people)))
        return out

    def load_triage(self, path: Path, roles: Mapping[str, Role]) -> list[TriageOption]:
        items = self.read_block(path, "triage", list)
        out: list[TriageOption] = []
        for i, item in enumerate(items or []):
            if not isinstance(item, LineDict):
                self.error(path, items.line_at(i), "each triage option needs id, roles, nl and en")
                continue
            out.append(TriageOption(**self.record(TriageOption, path, item, "a triage option")))
        return out

    def load_entries(
        self, folder: Path, roles: Mapping[str, Role], themes: set[str], claims: _Claims
    ) -> list[Entry]:
        entries: list[Entry] = []
        related_refs: list[tuple[Path, int, str, str]] = []
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
                entry = self.load_entry(path, item, themes)
                if entry is None or not self.claim(claims, path, item.line, entry):
                    continue
                related_refs.extend(
                    (path, item.line_of("related"), entry.id, r) for r in entry.related
                )
                entries.append(entry)
        for path, line, eid, ref in related_refs:
            if ref not in claims.ids:
                self.error(path, line, f"entry '{eid}' lists related '{ref}', which does not exist")
            elif ref == eid:
                self.error(path, line, f"entry '{eid}' lists itself as related")
        return entries

    def claim(self, claims: _Claims, path: Path, line: int, entry: Entry) -> bool:
        """Take the entry's id and questions; False (and an error) if the id is taken.
        A question another entry or topic already has is an error too."""
        if entry.id in claims.ids:
            p, ln = claims.ids[entry.id]
            self.error(path, line, f"id '{entry.id}' is already used at {self._rel(p)}:{ln}")
            return False
        claims.ids[entry.id] = (path, line)
        for lang, t in entry.texts.items():
            for q in t.questions:
                key = f"{lang}:{' '.join(q.lower().split())}"
                other, p, ln = claims.questions.setdefault(key, (entry.id, path, line))
                if other != entry.id:
                    self.error(
                        path,
                        line,
                        f"the question '{q}' is also in entry '{other}' "
                        f"({self._rel(p)}:{ln}); keep it in one entry",
                    )
        return True

    def load_entry(self, path: Path, item: LineDict, themes: set[str]) -> Entry | None:
        values = self.record(Entry, path, item, "an entry")
        eid: str = values["id"]
        if not eid:
            return None
        self.check_id(path, item, eid)
        theme = values["theme"]
        if theme and theme not in themes:
            self.error(path, item.line_of("theme"), f"theme '{theme}' is not in themes.yaml")
        reviewed: _dt.date = values["reviewed"]
        if reviewed > self.today:
            self.error(path, item.line_of("reviewed"), "'reviewed' is in the future")
        elif reviewed != _dt.date.min and (self.today - reviewed).days > 365:
            self.warn(
                path,
                item.line_of("reviewed"),
                f"entry '{eid}' was not reviewed in the last 12 months",
            )
        sources = self.load_sources(path, item)
        texts = self.entry_texts(path, item, eid)
        if "nl" not in texts:
            return None
        for lang, text in texts.items():
            if text.aspects:
                block = item.get(lang)
                line = block.line_of("aspects") if isinstance(block, LineDict) else item.line
                self.error(path, line, "'aspects' belongs to topics in elsewhere.yaml only")
        return Entry(
            **values,
            sources=tuple(sources),
            texts=texts,
            path=self._rel(path),
            line=item.line,
        )

    def check_id(self, path: Path, item: LineDict, eid: str) -> None:
        if not _ID_RE.match(eid):
            self.error(
                path, item.line_of("id"), f"id '{eid}': use lowercase letters, digits and hyphens"
            )

    def entry_texts(self, path: Path, item: LineDict, eid: str) -> dict[Lang, EntryText]:
        """The language blocks of an entry (or of a topic outside Wegwijzer)."""
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
            text = EntryText(**self.record(EntryText, path, block, f"'{lang}'"))
            if len(text.questions) < MIN_QUESTIONS:
                self.error(
                    path,
                    block.line_of("questions"),
                    f"entry '{eid}' ({lang}) has {len(text.questions)} questions; "
                    f"give at least {MIN_QUESTIONS}",
                )
            texts[lang] = text
        return texts

    def load_elsewhere(self, path: Path, claims: _Claims) -> list[Entry]:
        """Topics outside Wegwijzer (optional file): id, reviewed, owner, nl/en blocks, and
        sources when a public page says where such questions go."""
        if not path.is_file():
            return []
        items = self.read_block(path, "elsewhere", list)
        out: list[Entry] = []
        for i, item in enumerate(items or []):
            if not isinstance(item, LineDict):
                self.error(path, items.line_at(i), "each topic must be a block of keys")
                continue
            values = self.record(Entry, path, item, "a topic", skip=_NOT_ELSEWHERE)
            if not values["id"]:
                continue
            self.check_id(path, item, values["id"])
            texts = self.entry_texts(path, item, values["id"])
            if "nl" not in texts:
                continue
            topic = Entry(
                **values,
                theme="",
                audience=(),
                routes=(),
                related=(),
                sources=tuple(self.load_sources(path, item) if "sources" in item else ()),
                texts=texts,
                path=self._rel(path),
                line=item.line,
                outside=True,
            )
            if self.claim(claims, path, item.line, topic):
                out.append(topic)
        return out

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
            source = SourceRecord(**self.record(SourceRecord, path, s, "a source")).source()
            if source.url and not source.url.startswith(("https://", "http://")):
                self.error(path, s.line_of("url"), f"url '{source.url}' must start with https://")
            out.append(source)
        return out


@dataclass
class _Claims:
    """Ids and questions taken so far, with where: each belongs to one entry or topic."""

    ids: dict[str, tuple[Path, int]] = field(default_factory=dict)
    questions: dict[str, tuple[str, Path, int]] = field(default_factory=dict)


_NO_ID = frozenset({"id"})
#: What a topic outside Wegwijzer does without: nobody here helps with it.
_NOT_ELSEWHERE = frozenset({"theme", "audience", "routes", "related"})
