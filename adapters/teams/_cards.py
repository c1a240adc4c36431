"""A `bot.Reply` as an Adaptive Card in Teams' idiom (plain dicts, no SDK).

Order on the card: crisis notice (emergency numbers first), title, answer, sources and
when they were last checked, numbered choices as buttons, contact cards with mailto,
tel and Teams-chat links, and the footer. Every choice button submits
`{"wegwijzer": Choice.action}`; the endpoint hands that back as `Message.action`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from bot import ACTION_OPEN_DIRECT, Choice, Contact, ContactMethod, Reply, ReplyKind

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
#: Teams renders Adaptive Cards up to 1.5 on desktop, web and mobile.
CARD_VERSION = "1.5"
#: The key of a card submit's data that carries a `Choice.action`.
SUBMIT_KEY = "wegwijzer"
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
    name = contact.name + (f" ({contact.organisation})" if contact.organisation else "")
    items: list[Json] = [_text(name, weight="Bolder")]
    if contact.role_line:
        items.append(_text(contact.role_line, spacing="None"))
    extra = [e for e in ("/".join(contact.languages), contact.location) if e]
    reach = [f"{m.value}{f' ({m.note})' if m.note else ''}" for m in contact.methods]
    if reach or extra:
        items.append(_text(" · ".join([*reach, *extra]), isSubtle=True, spacing="None"))
    actions = [
        {"type": "Action.OpenUrl", "title": _method_title(m), "url": url}
        for m in contact.methods
        if (url := method_url(m)) is not None
    ]
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
        action: Json = {"type": "Action.OpenUrl", "title": title, "url": open_direct_url}
    else:
        action = {"type": "Action.Submit", "title": title, "data": {SUBMIT_KEY: choice.action}}
    # One ActionSet per choice: full-width buttons stacked, whatever their number.
    return {"type": "ActionSet", "actions": [action], "spacing": "Small"}


def render_card(reply: Reply, *, open_direct_url: str | None = None) -> Json:
    """The Adaptive Card for a reply.

    Args:
        reply: The engine's reply.
        open_direct_url: Teams deep link to a personal chat with this bot; the
            "continue in a private chat" choice opens it instead of submitting.
    """
    body: list[Json] = []
    if reply.crisis is not None:
        crisis_items: list[Json] = _paragraphs(reply.crisis.text, weight="Bolder", size="Medium")
        crisis_items += [_contact(c, attention=True) for c in reply.crisis.contacts]
        body.append({"type": "Container", "style": "attention", "items": crisis_items})
    if reply.title:
        body.append(_text(reply.title, size="Large", weight="Bolder", style="heading"))
    body += _paragraphs(reply.text)
    if reply.sources:
        body.append(_text(reply.labels.get("sources", "Sources"), weight="Bolder"))
        for s in reply.sources:
            label = s.title + (f" ({s.article})" if s.article else "")
            body.append(_text(f"[{_link_label(label)}]({s.url})", spacing="None"))
        if reply.reviewed is not None:
            checked = reply.labels.get("reviewed", "Checked")
            body.append(_text(f"{checked}: {reply.reviewed.isoformat()}", isSubtle=True))
    if reply.choices:
        if reply.choices_prompt:
            body += _paragraphs(reply.choices_prompt, weight="Bolder")
        body += [_choice(c, open_direct_url) for c in reply.choices]
    if reply.contacts:
        if reply.contacts_intro:
            body += _paragraphs(reply.contacts_intro, weight="Bolder")
        body += [_contact(c) for c in reply.contacts]
    if reply.footer:
        body += _paragraphs(reply.footer, isSubtle=True, size="Small")
    if not body:
        body.append(_text("…"))
    card: Json = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if reply.kind is ReplyKind.CRISIS:
        card["speak"] = reply.crisis.text if reply.crisis else reply.text
    return card
