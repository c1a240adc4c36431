"""The knowledge base's shape, declared once.

Every record read from YAML is a frozen dataclass here. A field that comes from a YAML
key carries a `Key` in its metadata: the key's name, what kind of value it holds, whether
it is required and a help text. The loader (bot/_kb.py) derives from these the allowed
keys of each block, how each value is read, and the error messages, so adding a field to
an entry is: one `key(...)` field here, plus the renderer that shows it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot._crisis_model import CrisisModel
from bot._types import LANGS, ContactMethod, Lang, Source

#: How a value is read (see `_kb._Loader.read_value`):
#:   text     one line or block of text; `tidy` joins hard-wrapped lines
#:   words    a list of non-empty texts (a single text is a list of one)
#:   roles    words that must be contact-role ids (bot._types.ROLES)
#:   langs    texts per language ({nl: ..., en: ...}); one text serves both
#:   date     a date like 2026-01-31
#:   bool     true or false
#:   methods  the contact-method keys (phone, email, url, teams, matrix, chat), each words
#:   lang     one text per language key at this level (nl: ..., en: ...)
#:   records  a list of blocks of `record`, read by the loader
#:   blocks   one block of `record` per language key at this level, read by the loader
Kind = Literal[
    "text", "words", "roles", "langs", "date", "bool", "methods", "lang", "records", "blocks"
]

METHOD_KINDS: tuple[Literal["phone", "email", "url", "teams", "matrix", "chat"], ...] = (
    "phone",
    "email",
    "url",
    "teams",
    "matrix",
    "chat",
)
#: Who an entry is written for.
AUDIENCES = ("employee", "vp", "manager")


@dataclass(frozen=True, slots=True)
class Key:
    """How one dataclass field is written in YAML."""

    name: str
    kind: Kind
    required: bool
    help: str
    tidy: bool = False
    choices: tuple[str, ...] = ()
    record: type | None = None

    @property
    def yaml_keys(self) -> tuple[str, ...]:
        """The YAML keys this field takes (one, or one per method or language)."""
        if self.kind == "methods":
            return METHOD_KINDS
        if self.kind in ("lang", "blocks"):
            return LANGS
        return (self.name,)


def key(
    name: str,
    kind: Kind,
    help: str,
    *,
    required: bool = True,
    tidy: bool = False,
    choices: tuple[str, ...] = (),
    record: type | None = None,
    default: Any = dataclasses.MISSING,
) -> Any:
    """A dataclass field read from the YAML key `name` (see `Key`)."""
    meta = {"key": Key(name, kind, required, help, tidy, choices, record)}
    if default is dataclasses.MISSING:
        return field(metadata=meta)
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@functools.cache
def keys(cls: type, skip: frozenset[str] = frozenset()) -> tuple[tuple[str, Key], ...]:
    """The (field name, Key) pairs of a schema dataclass, in declaration order."""
    return tuple(
        (f.name, k)
        for f in dataclasses.fields(cls)
        if isinstance(k := f.metadata.get("key"), Key) and f.name not in skip
    )


@functools.cache
def allowed_keys(cls: type, skip: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every YAML key a block of `cls` may hold."""
    return frozenset(y for _, k in keys(cls, skip) for y in k.yaml_keys)


# --------------------------------------------------------------------------- texts.yaml

#: Every user-facing text the engine needs, by key (texts.yaml must have each in nl and en).
REQUIRED_TEXTS = (
    "welcome",
    "help",
    "privacy",
    "forgotten",
    "unknown",
    "elsewhere",
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
    # "Did this help?" (bot/_feedback.py).
    *("feedback_prompt", "feedback_hint", "feedback_yes", "feedback_no", "feedback_thanks"),
    # Matrix channel (adapters/matrix/).
    *("matrix_undecryptable", "matrix_forget", "matrix_opened_direct"),
    *("matrix_open_direct_failed", "matrix_media"),
    # Teams channel (adapters/teams/): room welcome, pictures, details button, app package.
    *("teams_welcome_shared", "teams_open_direct", "teams_attachment", "teams_sticker"),
    *("teams_attachment_note", "teams_details_show", "teams_app_name_short"),
    *("teams_app_name_full", "teams_app_description_short", "teams_app_description_full"),
    *(
        f"teams_command_{c}{h}"
        for c in ("menu", "talk", "org", "privacy", "forget", "help")
        for h in ("", "_help")
    ),
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
    "label_details_shown",
    "counsellor_set",
    "details_none",
    "details_no_entry",
)
COMMANDS = (
    "help",
    "menu",
    "talk",
    "privacy",
    "forget",
    "org",
    "lang_nl",
    "lang_en",
    "counsellor",
    "details",
)


# --------------------------------------------------------------------------- problems


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


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """The YAML shape of `bot._types.Source` (a type adapters see, so it stays there)."""

    title: str = key("title", "text", "the law, regulation or page")
    url: str = key("url", "text", "where to read it: an https:// address")
    article: str = key("article", "text", "the article, e.g. 'art. 3 lid 2'", required=False)

    def source(self) -> Source:
        return Source(self.title, self.url, self.article)


@dataclass(frozen=True, slots=True)
class EntryText:
    """One language version of an entry."""

    title: str = key("title", "text", "the question in a few words, as a menu shows it")
    answer: str = key("answer", "text", "the answer; blank line between paragraphs", tidy=True)
    questions: tuple[str, ...] = key(
        "questions", "words", "five or more ways a person might ask this"
    )
    keywords: tuple[str, ...] = key(
        "keywords", "words", "words that point to this entry", required=False, default=()
    )
    #: Topics outside Wegwijzer only: words that send a question to the topic even when
    #: it names an entry's subject ("belasting over mijn transitievergoeding").
    aspects: tuple[str, ...] = key(
        "aspects",
        "words",
        "elsewhere.yaml only: words that send a question here whatever subject it names",
        required=False,
        default=(),
    )
    #: The professional block for counsellors: legal basis, deadlines, pitfalls, referral.
    details: str = key(
        "details",
        "text",
        "for counsellors: legal basis, deadlines, pitfalls (shown on 'meer detail')",
        required=False,
        tidy=True,
        default="",
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """One question-and-answer entry."""

    id: str = key("id", "text", "lowercase letters, digits and hyphens; unique")
    theme: str = key("theme", "text", "a theme id from themes.yaml")
    audience: tuple[str, ...] = key("audience", "words", "who it is written for", choices=AUDIENCES)
    routes: tuple[str, ...] = key("routes", "roles", "who can help, as contact-role ids")
    related: tuple[str, ...] = key(
        "related", "words", "ids of entries offered after this one", required=False
    )
    # `key` returns a dataclasses.field, not a shared default value.
    reviewed: _dt.date = key("reviewed", "date", "last checked against its sources")  # noqa: RUF009
    owner: str = key("owner", "text", "who keeps it up to date")
    sources: tuple[Source, ...] = key(
        "sources", "records", "at least one source", record=SourceRecord
    )
    texts: Mapping[Lang, EntryText] = key(
        "texts", "blocks", "the text per language ('nl' required)", record=EntryText
    )
    path: str = ""
    line: int = 0
    #: A topic of `elsewhere.yaml`: a question Wegwijzer does not cover, whose answer says
    #: where it goes. It is matched like an entry so that it can win, never answered as one.
    outside: bool = False

    def text(self, lang: Lang) -> EntryText:
        """The entry in `lang`, falling back to Dutch."""
        return self.texts.get(lang) or self.texts["nl"]


@dataclass(frozen=True, slots=True)
class Theme:
    id: str = key("id", "text", "short id entries use in 'theme:'")
    titles: Mapping[Lang, str] = key("titles", "lang", "the theme as the menu shows it")


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    names: Mapping[Lang, str]
    lines: Mapping[Lang, str]


@dataclass(frozen=True, slots=True)
class RoleText:
    """One language block of a role in roles.yaml."""

    name: str = key("name", "text", "what the role is called")
    line: str = key("line", "text", "one line: what they do and how confidential it is")


@dataclass(frozen=True, slots=True)
class ContactInfo:
    """A national body (contacts.yaml) or a named person in an organisation."""

    id: str = key("id", "text", "unique id (national bodies only)")
    roles: tuple[str, ...] = key("roles", "roles", "the contact-role ids this contact fills")
    names: Mapping[Lang, str] = key("name", "langs", "name, one text or per language")
    notes: Mapping[Lang, str] = key(
        "note", "langs", "short extra text per language", required=False
    )
    methods: tuple[ContactMethod, ...] = key(
        "methods", "methods", "how to reach them: phone, email, url, teams, matrix, chat"
    )
    languages: tuple[str, ...] = key(
        "languages", "words", "languages spoken, e.g. [nl, en]", required=False, default=()
    )
    locations: Mapping[Lang, str] = key(
        "location", "langs", "where they work, per language", required=False, default={}
    )


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str = key("id", "text", "short unique id")
    example: bool = key(
        "example", "bool", "true for a made-up example organisation", required=False
    )
    names: Mapping[Lang, str] = key("name", "langs", "the organisation's name per language")
    aliases: tuple[str, ...] = key(
        "aliases", "words", "other names people type for it", required=False
    )
    contacts: tuple[ContactInfo, ...] = key(
        "contacts", "records", "the people, at least one", record=ContactInfo
    )


@dataclass(frozen=True, slots=True)
class TriageOption:
    """One answer to "what is it about?" in the talk-to-someone guide."""

    id: str = key("id", "text", "short unique id")
    roles: tuple[str, ...] = key("roles", "roles", "who fits, first the best")
    labels: Mapping[Lang, str] = key("labels", "lang", "the option as shown")


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
    #: Topics outside Wegwijzer (elsewhere.yaml), each saying where such questions go.
    elsewhere: tuple[Entry, ...] = ()
    #: crisis.yaml `work_scope`: per language, the word lists (binders, objects, beyond,
    #: asks) that tell a soft crisis phrase bound to a work object from the person's own
    #: crisis ("ik zie het niet meer zitten met dit project, mag ik wisselen?").
    crisis_scope: Mapping[Lang, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def by_id(self) -> Mapping[str, Entry]:
        return {e.id: e for e in self.entries}

    def text(self, key: str, lang: Lang, **values: object) -> str:
        """A user-facing text in `lang`, with `{placeholders}` filled in."""
        template = self.texts[key].get(lang) or self.texts[key]["nl"]
        return template.format_map(Defaulting(values)) if values else template


class Defaulting(dict[str, object]):
    """Leaves an unknown `{placeholder}` as it is instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
