"""The small types that cross the boundary between adapters and the engine.

An adapter turns a platform event into a `Message`, awaits `Engine.handle`, and renders
the `Reply` it gets back in its platform's idiom. Nothing here knows about a platform.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")

#: Contact-role ids, fixed by the evaluation contract.
ROLES: tuple[str, ...] = (
    "vpoo",
    "vpi",
    "p_raadgever",
    "external_vp",
    "integrity_coordinator",
    "bedrijfsarts",
    "bmw",
    "huis_klokkenluiders",
    "union",
    "juridisch_loket",
    "emergency",
)


class Channel(StrEnum):
    """Where a message was written: a private 1:1 chat or a shared room."""

    DIRECT = "direct"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Message:
    """One incoming message, as the engine sees it.

    Attributes:
        conversation: Opaque key for the conversation. Adapters derive it with
            `bot.conversation_key` so the engine never holds a platform or person id.
        text: What the person typed (may be empty when `action` is set).
        channel: Direct chat or group room; in a group room the engine never discusses
            a personal matter.
        action: A structured choice the person picked (a card button in Teams), the
            `Choice.action` of an earlier reply. Takes precedence over `text`.
        lang_hint: The platform's locale, if known ("nl", "en").
    """

    conversation: str
    text: str
    channel: Channel = Channel.DIRECT
    action: str | None = None
    lang_hint: Lang | None = None


class ReplyKind(StrEnum):
    """What sort of reply this is; adapters may style them differently."""

    ANSWER = "answer"  # a knowledge-base entry
    CLARIFY = "clarify"  # "did you mean" with numbered choices
    UNKNOWN = "unknown"  # honest "I don't know that"
    CRISIS = "crisis"  # acute danger: emergency numbers first
    MENU = "menu"  # topic menu or a theme's entries
    INFO = "info"  # help, privacy, language, organisation, triage steps
    FORGOTTEN = "forgotten"  # state cleared; adapters may clean up (Matrix redacts)
    GROUP = "group"  # a group room: offer a private chat instead
    OPEN_DIRECT = "open_direct"  # the person took that offer: adapters open a private chat
    INVALID = "invalid"  # empty, binary or otherwise unreadable input


@dataclass(frozen=True, slots=True)
class Source:
    """Where an answer comes from."""

    title: str
    url: str
    article: str = ""


@dataclass(frozen=True, slots=True)
class ContactMethod:
    """One way to reach a contact.

    Attributes:
        kind: "phone", "email", "url", "teams" (a UPN or e-mail for a Teams chat deep
            link), "matrix" (a Matrix user id) or "chat" (a web chat URL).
        value: The number, address, id or URL itself.
        note: Short extra text ("24/7", "€0.25/min"), already in the reply language.
    """

    kind: Literal["phone", "email", "url", "teams", "matrix", "chat"]
    value: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """A person or body the reply points to, in the reply language.

    Attributes:
        role: The contact-role id this card is for.
        name: Person or body name.
        role_line: One line: what this role does and how confidential it is.
        organisation: The organisation's display name, or "" for national bodies.
        example: True for the bundled example organisation (render it as an example).
    """

    role: str
    name: str
    role_line: str
    methods: tuple[ContactMethod, ...] = ()
    languages: tuple[str, ...] = ()
    location: str = ""
    organisation: str = ""
    example: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """A numbered option. The person may type the number or pick it as a button.

    Attributes:
        number: 1-based number shown to the person.
        label: Text shown.
        action: Opaque token to send back in `Message.action` (card submit).
    """

    number: int
    label: str
    action: str


@dataclass(frozen=True, slots=True)
class CrisisNotice:
    """Shown first, before anything else, when a message signals acute danger."""

    text: str
    contacts: tuple[Contact, ...]


@dataclass(frozen=True, slots=True)
class CrisisSection:
    """Emergency numbers: always the first section when present."""

    text: str
    contacts: tuple[Contact, ...]


@dataclass(frozen=True, slots=True)
class AnswerSection:
    """The answer itself: an optional title and plain text (blank line between paragraphs)."""

    title: str
    text: str


@dataclass(frozen=True, slots=True)
class DetailsSection:
    """The professional block for counsellors (legal basis, deadlines, pitfalls).

    `shown` is True when the person said they are a counsellor (or the deployment is for
    counsellors only); otherwise adapters offer it folded (a toggle, `<details>`, or the
    hint in `label` to type `meer detail`).
    """

    label: str
    text: str
    shown: bool


@dataclass(frozen=True, slots=True)
class ChoicesSection:
    """Numbered options; adapters show buttons where they can, numbers everywhere."""

    prompt: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class ContactsSection:
    """Who can help, with an intro line."""

    intro: str
    contacts: tuple[Contact, ...]


@dataclass(frozen=True, slots=True)
class SourcesSection:
    """Where the answer comes from, and when it was last checked against its sources."""

    label: str
    sources: tuple[Source, ...]
    reviewed: _dt.date | None
    reviewed_label: str


@dataclass(frozen=True, slots=True)
class FeedbackSection:
    """ "Did this help?" after an answer: two choices, never free text.

    Adapters with buttons send `yes_action` / `no_action` back as `Message.action`
    (Teams: two Action.Submit buttons; web: two buttons; Matrix: 👍/👎 reactions);
    `hint` is for channels without buttons ("type ja or nee"). Ignoring it costs nothing.
    """

    prompt: str
    yes_action: str
    no_action: str
    yes_label: str
    no_label: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class DisclaimerSection:
    """The closing line: general information, not legal advice; privacy notes."""

    text: str


Section = (
    CrisisSection
    | AnswerSection
    | DetailsSection
    | ChoicesSection
    | ContactsSection
    | SourcesSection
    | FeedbackSection
    | DisclaimerSection
)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the engine answers: structure, never platform markup.

    `text` is plain text; paragraphs are separated by a blank line and list items start
    with "- ". Adapters render `sections()`, which yields the parts in one fixed order, in
    their own idiom; `plain_text()` is the canonical plain rendering used by the console
    and `ask --json`.
    """

    kind: ReplyKind
    lang: Lang
    text: str
    title: str = ""
    entry: str | None = None
    confidence: float = 0.0
    crisis: CrisisNotice | None = None
    details: str = ""
    details_shown: bool = False
    sources: tuple[Source, ...] = ()
    reviewed: _dt.date | None = None
    routes: tuple[str, ...] = ()
    contacts_intro: str = ""
    contacts: tuple[Contact, ...] = ()
    choices_prompt: str = ""
    choices: tuple[Choice, ...] = ()
    footer: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    feedback: FeedbackSection | None = None

    def sections(self) -> tuple[Section, ...]:
        """The reply's parts in the one order every channel shows them.

        Crisis notice, answer, details for counsellors, choices, contacts, sources with
        review date, "did this help?", disclaimer. Empty parts are left out.
        """
        out: list[Section] = []
        if self.crisis is not None:
            out.append(CrisisSection(self.crisis.text, self.crisis.contacts))
        if self.title or self.text:
            out.append(AnswerSection(self.title, self.text))
        if self.details:
            label = self.labels.get("details", "Details")
            out.append(DetailsSection(label, self.details, self.details_shown))
        if self.choices:
            out.append(ChoicesSection(self.choices_prompt, self.choices))
        if self.contacts:
            out.append(ContactsSection(self.contacts_intro, self.contacts))
        if self.sources:
            out.append(
                SourcesSection(
                    self.labels.get("sources", "Sources"),
                    self.sources,
                    self.reviewed,
                    self.labels.get("reviewed", "Checked"),
                )
            )
        if self.feedback is not None:
            out.append(self.feedback)
        if self.footer:
            out.append(DisclaimerSection(self.footer))
        return tuple(out)

    def plain_text(self) -> str:
        """Render the whole reply as plain text, as a person would read it."""
        parts: list[str] = []
        for sec in self.sections():
            match sec:
                case CrisisSection(text, contacts):
                    parts.append(text)
                    parts.extend(contact_lines(c) for c in contacts)
                case AnswerSection(title, text):
                    parts.extend(p for p in (title, text) if p)
                case DetailsSection(label, text, shown):
                    parts.append(f"{label}:\n{text}" if shown else label)
                case ChoicesSection(prompt, choices):
                    lines = [prompt] if prompt else []
                    lines += [f"{c.number}. {c.label}" for c in choices]
                    parts.append("\n".join(lines))
                case ContactsSection(intro, contacts):
                    lines = [intro] if intro else []
                    lines += [contact_lines(c) for c in contacts]
                    parts.append("\n".join(lines))
                case SourcesSection(label, sources, reviewed, reviewed_label):
                    lines = [f"{label}:"]
                    for s in sources:
                        art = f" ({s.article})" if s.article else ""
                        lines.append(f"- {s.title}{art}: {s.url}")
                    if reviewed is not None:
                        lines.append(f"{reviewed_label}: {reviewed}")
                    parts.append("\n".join(lines))
                case FeedbackSection(prompt=prompt, hint=hint):
                    parts.append(f"{prompt} {hint}".strip())
                case DisclaimerSection(text):
                    parts.append(text)
        return "\n\n".join(p for p in parts if p)


def contact_reach(c: Contact) -> tuple[ContactMethod, ...]:
    """The contact's methods without repeats: an e-mail address that is also the Teams id
    is shown once (as e-mail)."""
    seen: set[str] = set()
    out: list[ContactMethod] = []
    for m in sorted(c.methods, key=lambda m: m.kind == "teams"):
        key = m.value.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(m)
    order = {id(m): i for i, m in enumerate(c.methods)}
    return tuple(sorted(out, key=lambda m: order[id(m)]))


def contact_heading(c: Contact) -> str:
    """Name with organisation, without repeating a marker such as "(voorbeeld)" twice."""
    if not c.organisation:
        return c.name
    name, org = c.name, c.organisation
    for marker in ("(voorbeeld)", "(example)"):
        if name.endswith(marker) and org.endswith(marker):
            name = name[: -len(marker)].rstrip()
    return f"{name} ({org})"


def contact_lines(c: Contact) -> str:
    """One contact as plain text: heading and role line, then how to reach them."""
    head = f"- {contact_heading(c)}"
    if c.role_line:
        head += f": {c.role_line}"
    reach = [f"{m.value}{f' ({m.note})' if m.note else ''}" for m in contact_reach(c)]
    extra = []
    if reach:
        extra.append(", ".join(reach))
    if c.languages:
        extra.append("/".join(c.languages))
    if c.location:
        extra.append(c.location)
    return head + (f"\n  {' · '.join(extra)}" if extra else "")
