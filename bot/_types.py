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
class Reply:
    """What the engine answers: structure, never platform markup.

    `text` is plain text; paragraphs are separated by a blank line and list items start
    with "- ". Adapters render each field in their own idiom; `plain_text()` gives the
    canonical plain rendering used by the console and `ask --json`.
    """

    kind: ReplyKind
    lang: Lang
    text: str
    title: str = ""
    entry: str | None = None
    confidence: float = 0.0
    crisis: CrisisNotice | None = None
    sources: tuple[Source, ...] = ()
    reviewed: _dt.date | None = None
    routes: tuple[str, ...] = ()
    contacts_intro: str = ""
    contacts: tuple[Contact, ...] = ()
    choices_prompt: str = ""
    choices: tuple[Choice, ...] = ()
    footer: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def plain_text(self) -> str:
        """Render the whole reply as plain text, as a person would read it."""
        parts: list[str] = []
        if self.crisis is not None:
            parts.append(self.crisis.text)
            parts.extend(_contact_lines(c) for c in self.crisis.contacts)
        if self.title:
            parts.append(self.title)
        if self.text:
            parts.append(self.text)
        if self.sources:
            head = self.labels.get("sources", "Sources")
            lines = [f"{head}:"]
            for s in self.sources:
                art = f" ({s.article})" if s.article else ""
                lines.append(f"- {s.title}{art}: {s.url}")
            if self.reviewed is not None:
                lines.append(f"{self.labels.get('reviewed', 'Checked')}: {self.reviewed}")
            parts.append("\n".join(lines))
        if self.choices:
            lines = [self.choices_prompt] if self.choices_prompt else []
            lines += [f"{c.number}. {c.label}" for c in self.choices]
            parts.append("\n".join(lines))
        if self.contacts:
            lines = [self.contacts_intro] if self.contacts_intro else []
            lines += [_contact_lines(c) for c in self.contacts]
            parts.append("\n".join(lines))
        if self.footer:
            parts.append(self.footer)
        return "\n\n".join(p for p in parts if p)


def _contact_lines(c: Contact) -> str:
    head = f"- {c.name}"
    if c.organisation:
        head += f" ({c.organisation})"
    if c.role_line:
        head += f": {c.role_line}"
    reach = [f"{m.value}{f' ({m.note})' if m.note else ''}" for m in c.methods]
    extra = []
    if reach:
        extra.append(", ".join(reach))
    if c.languages:
        extra.append("/".join(c.languages))
    if c.location:
        extra.append(c.location)
    return head + (f"\n  {' · '.join(extra)}" if extra else "")
