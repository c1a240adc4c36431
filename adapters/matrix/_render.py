"""Replies as Matrix HTML: `m.notice` events with a plain `body` and escaped HTML beside it.

Walks `Reply.sections()` and nothing else, so every channel shows the same parts in the
same order. Every text is escaped; links only for http(s), mailto and tel.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot import (
    AnswerSection,
    ChoicesSection,
    Contact,
    ContactMethod,
    ContactsSection,
    CrisisSection,
    DetailsSection,
    DisclaimerSection,
    FeedbackSection,
    Reply,
    SourcesSection,
    contact_heading,
    contact_reach,
)

_SAFE_URL = re.compile(r"^(https?://|mailto:|tel:)", re.IGNORECASE)


def _link(href: str, label: str) -> str:
    if not _SAFE_URL.match(href):
        return html.escape(label)
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(label)}</a>'


def _method_html(m: ContactMethod) -> str:
    note = f" ({html.escape(m.note)})" if m.note else ""
    hrefs = {
        "phone": "tel:" + re.sub(r"[^0-9+]", "", m.value),
        "email": "mailto:" + m.value,
        "url": m.value,
        "chat": m.value,
        "matrix": "https://matrix.to/#/" + m.value,
    }
    href = hrefs.get(m.kind)
    return (_link(href, m.value) if href else html.escape(m.value)) + note


def _contact_html(c: Contact) -> str:
    head = f"<strong>{html.escape(contact_heading(c))}</strong>"
    if c.role_line:
        head += f": {html.escape(c.role_line)}"
    reach = contact_reach(c)
    extra = [", ".join(_method_html(m) for m in reach)] if reach else []
    if c.languages:
        extra.append(html.escape("/".join(c.languages)))
    if c.location:
        extra.append(html.escape(c.location))
    return f"<li>{head}{'<br>' + ' · '.join(extra) if extra else ''}</li>"


def _contacts_html(contacts: tuple[Contact, ...]) -> str:
    return "<ul>" + "".join(_contact_html(c) for c in contacts) + "</ul>" if contacts else ""


def text_html(text: str) -> str:
    """Plain text as HTML: a blank line between paragraphs, "- " items as a list."""
    out: list[str] = []
    for para in text.split("\n\n"):
        lines = [line for line in para.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append("<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>")
    return "".join(out)


def render_html(reply: Reply) -> str:
    """The reply as Matrix HTML: every text escaped, choices as an ordered list."""
    parts: list[str] = []
    for sec in reply.sections():
        match sec:
            case CrisisSection(text, contacts):
                parts.append(f"<p><strong>{html.escape(text)}</strong></p>")
                parts.append(_contacts_html(contacts))
            case AnswerSection(title, text):
                if title:
                    parts.append(f"<h4>{html.escape(title)}</h4>")
                parts.append(text_html(text))
            case DetailsSection(label, text, shown):
                # Folded unless the person said they are a counsellor: clients without
                # <details> support show it open, which is harmless.
                opened = " open" if shown else ""
                summary = f"<summary>{html.escape(label)}</summary>"
                parts.append(f"<details{opened}>{summary}{text_html(text)}</details>")
            case ChoicesSection(prompt, choices):
                if prompt:
                    parts.append(f"<p>{html.escape(prompt)}</p>")
                start = choices[0].number
                attr = f' start="{start}"' if start != 1 else ""
                items = "".join(f"<li>{html.escape(c.label)}</li>" for c in choices)
                parts.append(f"<ol{attr}>{items}</ol>")
            case ContactsSection(intro, contacts):
                if intro:
                    parts.append(f"<p><strong>{html.escape(intro)}</strong></p>")
                parts.append(_contacts_html(contacts))
            case SourcesSection(label, sources, reviewed, reviewed_label):
                items = "".join(
                    f"<li>{_link(s.url, s.title)}"
                    f"{f' ({html.escape(s.article)})' if s.article else ''}</li>"
                    for s in sources
                )
                checked = ""
                if reviewed is not None:
                    checked = f"<br><em>{html.escape(reviewed_label)}: {reviewed.isoformat()}</em>"
                parts.append(f"<p><em>{html.escape(label)}:</em></p><ul>{items}</ul>{checked}")
            case FeedbackSection(prompt=prompt, hint=hint):
                # Typed ja/nee (the engine reads it); no reactions to keep track of.
                parts.append(f"<p>{html.escape(prompt)} <em>{html.escape(hint)}</em></p>")
            case DisclaimerSection(text):
                parts.append(f"<p><em>{html.escape(text)}</em></p>")
    return "".join(p for p in parts if p)


def notice(body: str, formatted: str | None = None) -> dict[str, Any]:
    """An `m.notice` content: clean plain body, escaped HTML beside it."""
    return {
        "msgtype": "m.notice",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted if formatted is not None else text_html(body),
    }


def render(reply: Reply) -> dict[str, Any]:
    """The content of the `m.notice` event for one reply."""
    return notice(reply.plain_text(), render_html(reply))
