"""A `bot.Reply` as an Adaptive Card in Teams' idiom (plain dicts, no SDK).

The card walks `reply.sections()` in their one order: crisis notice (emergency numbers
first), answer, the counsellors' details (folded behind a toggle button unless shown),
numbered choices as buttons, contact cards with mailto, tel and Teams-chat links, sources
with the date they were last checked, and the disclaimer. Every choice button submits
`{"wegwijzer": Choice.action}`; the endpoint hands that back as `Message.action`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from bot import (
    ACTION_OPEN_DIRECT,
    AnswerSection,
    Choice,
    ChoicesSection,
    Contact,
    ContactMethod,
    ContactsSection,
    CrisisSection,
    DetailsSection,
    DisclaimerSection,
    FeedbackSection,
    Reply,
    ReplyKind,
    SourcesSection,
    contact_heading,
    contact_reach,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
#: Teams renders Adaptive Cards up to 1.5 on desktop, web and mobile.
CARD_VERSION = "1.5"
#: The key of a card submit's data that carries a `Choice.action`.
SUBMIT_KEY = "wegwijzer"
#: The id of the folded details container (one per card).
DETAILS_ID = "wegwijzer-details"
_ICONS = {"phone": "📞", "email": "✉️", "teams": "💬", "url": "🔗", "chat": "💬", "matrix": "💬"}

Json = dict[str, Any]


def _text(text: str, **style: Any) -> Json:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _link_label(text: str) -> str:
    # Square brackets would end a markdown link label early.
    return text.replace("[", "(").replace("]", ")")


def _paragraphs(text: str, **style: Any) -> list[Json]:
    return [_text(p.strip(), **style) for p in text.split("\n\n") if p.strip()]


def method_url(method: ContactMethod) -> str | None:
    """The link a contact method opens: tel:, mailto:, a Teams chat, or the URL itself."""
    value = method.value.strip()
    if method.kind == "phone":
        digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
        return f"tel:{digits}" if digits else None
    if method.kind == "email":
        return f"mailto:{value}"
    if method.kind == "teams":
        return f"https://teams.microsoft.com/l/chat/0/0?users={quote(value, safe='@.')}"
    if method.kind == "matrix":
        return f"https://matrix.to/#/{quote(value, safe='@:.')}"
    if method.kind in ("url", "chat") and value.startswith(("https://", "http://")):
        return value
    return None


def _method_title(method: ContactMethod) -> str:
    shown = method.value
    if method.kind in ("url", "chat"):
        shown = urlsplit(method.value).hostname or method.value
    elif method.kind == "teams":
        shown = "Teams"
    note = f" ({method.note})" if method.note else ""
    return f"{_ICONS.get(method.kind, '')} {shown}{note}".strip()


def _contact(contact: Contact, *, attention: bool = False) -> Json:
    items: list[Json] = [_text(contact_heading(contact), weight="Bolder")]
    if contact.role_line:
        items.append(_text(contact.role_line, spacing="None"))
    extra = [e for e in ("/".join(contact.languages), contact.location) if e]
    reach = [f"{m.value}{f' ({m.note})' if m.note else ''}" for m in contact_reach(contact)]
    if reach or extra:
        items.append(_text(" · ".join([*reach, *extra]), isSubtle=True, spacing="None"))
    # Buttons for every method, also an address that is both e-mail and Teams id: mail
    # and chat are different actions, though the address is written once above.
    actions: list[Json] = []
    seen: set[str] = set()
    for method in contact.methods:
        url = method_url(method)
        if url is not None and url not in seen:
            seen.add(url)
            actions.append({"type": "Action.OpenUrl", "title": _method_title(method), "url": url})
    if actions:
        items.append({"type": "ActionSet", "actions": actions[:5]})
    return {
        "type": "Container",
        "style": "attention" if attention else "emphasis",
        "items": items,
        "spacing": "Small",
    }


def _choice(choice: Choice, open_direct_url: str | None) -> Json:
    title = f"{choice.number}. {choice.label}"
    if choice.action == ACTION_OPEN_DIRECT and open_direct_url:
        # A link, not a numbered pick: the button itself opens the personal chat.
        action: Json = {"type": "Action.OpenUrl", "title": choice.label, "url": open_direct_url}
    else:
        action = {"type": "Action.Submit", "title": title, "data": {SUBMIT_KEY: choice.action}}
    # One ActionSet per choice: full-width buttons stacked, whatever their number.
    return {"type": "ActionSet", "actions": [action], "spacing": "Small"}


def _details(section: DetailsSection, toggle_title: str) -> list[Json]:
    if section.shown:
        return [_text(section.label, weight="Bolder"), *_paragraphs(section.text)]
    toggle: Json = {
        "type": "Action.ToggleVisibility",
        "title": toggle_title or section.label,
        "targetElements": [DETAILS_ID],
    }
    return [
        {"type": "ActionSet", "actions": [toggle], "spacing": "Medium"},
        {
            "type": "Container",
            "id": DETAILS_ID,
            "isVisible": False,
            "items": _paragraphs(section.text),
        },
    ]


@dataclass(frozen=True, slots=True)
class CardOptions:
    """Teams' additions to a reply's card.

    Attributes:
        open_direct_url: Teams deep link to a personal chat with this bot; the "continue
            in a private chat" choice opens it instead of submitting.
        details_toggle: Title of the button that unfolds the counsellors' details.
        note: A line shown first (after a crisis notice), e.g. that pictures were not read.
    """

    open_direct_url: str | None = None
    details_toggle: str = ""
    note: str = ""


def render_card(reply: Reply, options: CardOptions | None = None) -> Json:
    """The Adaptive Card for a reply, built from `reply.sections()` only."""
    opts = options or CardOptions()
    body: list[Json] = []
    noted = False

    def note() -> None:
        nonlocal noted
        if opts.note and not noted:
            noted = True
            body.extend(_paragraphs(opts.note, isSubtle=True))

    for section in reply.sections():
        if not isinstance(section, CrisisSection):
            note()
        match section:
            case CrisisSection(text, contacts):
                items = _paragraphs(text, weight="Bolder", size="Medium")
                items += [_contact(c, attention=True) for c in contacts]
                body.append({"type": "Container", "style": "attention", "items": items})
            case AnswerSection(title, text):
                if title:
                    body.append(_text(title, size="Large", weight="Bolder", style="heading"))
                body += _paragraphs(text)
            case DetailsSection():
                body += _details(section, opts.details_toggle)
            case ChoicesSection(prompt, choices):
                if prompt:
                    body += _paragraphs(prompt, weight="Bolder")
                body += [_choice(c, opts.open_direct_url) for c in choices]
            case ContactsSection(intro, contacts):
                if intro:
                    body += _paragraphs(intro, weight="Bolder")
                body += [_contact(c) for c in contacts]
            case SourcesSection(label, sources, reviewed, reviewed_label):
                body.append(_text(label, weight="Bolder"))
                for s in sources:
                    shown = s.title + (f" ({s.article})" if s.article else "")
                    body.append(_text(f"[{_link_label(shown)}]({s.url})", spacing="None"))
                if reviewed is not None:
                    body.append(_text(f"{reviewed_label}: {reviewed.isoformat()}", isSubtle=True))
            case FeedbackSection(prompt, yes_action, no_action, yes_label, no_label):
                # Two buttons; ignoring them costs nothing.
                body += _paragraphs(prompt, weight="Bolder")
                buttons = [
                    {"type": "Action.Submit", "title": label, "data": {SUBMIT_KEY: action}}
                    for label, action in ((yes_label, yes_action), (no_label, no_action))
                ]
                body.append({"type": "ActionSet", "actions": buttons, "spacing": "Small"})
            case DisclaimerSection(text):
                body += _paragraphs(text, isSubtle=True, size="Small")
    note()
    if not body:
        body.append(_text("…"))
    card: Json = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "lang": reply.lang,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if reply.kind is ReplyKind.CRISIS:
        card["speak"] = reply.crisis.text if reply.crisis else reply.text
    return card
