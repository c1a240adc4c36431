"""HTML for the page and for each reply: escaped text only, one renderer for both modes.

The same fragment goes into the server-rendered page (no JavaScript) and into the live
chat (inserted by chat.js), so the two can never drift apart.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from string import Template

from bot import (
    AnswerSection,
    ChoicesSection,
    Contact,
    ContactsSection,
    CrisisSection,
    DetailsSection,
    DisclaimerSection,
    FeedbackSection,
    Lang,
    Reply,
    SourcesSection,
    contact_heading,
    contact_reach,
)

#: Looks up page wording in knowledge/texts.yaml: `text(key, lang)`.
Texts = Callable[[str, Lang], str]

#: Every wording key the page itself uses (checked at start-up so a typo fails early).
PAGE_TEXTS = (
    "web_title",
    "web_tagline",
    "web_intro",
    "web_question_label",
    "web_send",
    "web_you",
    "web_exit",
    "web_lang_switch",
    "web_log_label",
    "web_skip",
    "web_privacy_note",
    "web_nojs_note",
    "web_error",
    "web_rate_limited",
    "web_busy",
    "web_bad_request",
)

_PHONE = re.compile(r"[^\d+]")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def _paragraphs(text: str) -> str:
    """Blank-line paragraphs; lines starting with "- " become a list."""
    out: list[str] = []
    for para in text.split("\n\n"):
        lines = [line for line in para.split("\n") if line.strip()]
        items = [line[2:] for line in lines if line.startswith("- ")]
        plain = [line for line in lines if not line.startswith("- ")]
        if plain:
            out.append("<p>" + "<br>".join(esc(line) for line in plain) + "</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")
    return "".join(out)


def _method_link(kind: str, value: str, note: str) -> str:
    label = esc(value) + (f" <span class='note'>({esc(note)})</span>" if note else "")
    if kind == "phone":
        return f'<a href="tel:{esc(_PHONE.sub("", value))}">{label}</a>'
    if kind == "email":
        return f'<a href="mailto:{esc(value)}">{label}</a>'
    if kind in ("url", "chat") and value.startswith("https://"):
        return f'<a href="{esc(value)}" rel="noreferrer noopener" target="_blank">{label}</a>'
    if kind == "teams":
        return f"<span>Teams: {label}</span>"
    if kind == "matrix":
        return f"<span>Matrix: {label}</span>"
    return f"<span>{label}</span>"


@functools.lru_cache(maxsize=1024)
def _contact(c: Contact) -> str:
    # Cached by the card itself: every field comes from the knowledge base, none from
    # a message, and the same few cards are shown again and again.
    parts = [f'<p class="name"><strong>{esc(contact_heading(c))}</strong></p>']
    if c.role_line:
        parts.append(f"<p>{esc(c.role_line)}</p>")
    reach = [_method_link(m.kind, m.value, m.note) for m in contact_reach(c)]
    if reach:
        parts.append('<ul class="reach">' + "".join(f"<li>{r}</li>" for r in reach) + "</ul>")
    extra = [x for x in ("/".join(c.languages), c.location) if x]
    if extra:
        parts.append(f'<p class="meta">{esc(" · ".join(extra))}</p>')
    return '<li class="contact">' + "".join(parts) + "</li>"


def hidden_fields(token: str, lang: Lang) -> str:
    return (
        f'<input type="hidden" name="token" value="{esc(token)}">'
        f'<input type="hidden" name="lang" value="{esc(lang)}">'
    )


def render_reply(reply: Reply, token: str) -> str:
    """One bot turn as an `<article>`; choices are buttons of a form that works without JS."""
    parts: list[str] = []
    for sec in reply.sections():
        match sec:
            case CrisisSection(text, contacts):
                items = "".join(_contact(c) for c in contacts)
                parts.append(
                    f'<div class="crisis" role="alert"><p><strong>{esc(text)}</strong></p>'
                    f'<ul class="contacts">{items}</ul></div>'
                )
            case AnswerSection(title, text):
                if title:
                    parts.append(f"<h2>{esc(title)}</h2>")
                parts.append(_paragraphs(text))
            case DetailsSection(label, text, shown):
                opened = " open" if shown else ""
                parts.append(
                    f'<details class="details"{opened}><summary>{esc(label)}</summary>'
                    f"{_paragraphs(text)}</details>"
                )
            case ChoicesSection(prompt, choices):
                buttons = "".join(
                    f'<li><button type="submit" class="choice" name="action" '
                    f'value="{esc(c.action)}">{c.number}. {esc(c.label)}</button></li>'
                    for c in choices
                )
                head = f"<p>{esc(prompt)}</p>" if prompt else ""
                parts.append(
                    f'<form class="turn-form choices" method="post" action="/">{head}'
                    f"{hidden_fields(token, reply.lang)}<ul>{buttons}</ul></form>"
                )
            case ContactsSection(intro, contacts):
                head = f'<p class="intro"><strong>{esc(intro)}</strong></p>' if intro else ""
                items = "".join(_contact(c) for c in contacts)
                parts.append(f'<div class="help">{head}<ul class="contacts">{items}</ul></div>')
            case SourcesSection(label, sources, reviewed, reviewed_label):
                links = "".join(
                    f'<li><a href="{esc(s.url)}" rel="noreferrer noopener" target="_blank">'
                    f"{esc(s.title)}</a>{f' ({esc(s.article)})' if s.article else ''}</li>"
                    for s in sources
                )
                when = f"<p>{esc(reviewed_label)}: {reviewed.isoformat()}</p>" if reviewed else ""
                parts.append(
                    f'<details class="sources"><summary>{esc(label)}</summary>'
                    f"<ul>{links}</ul>{when}</details>"
                )
            case FeedbackSection(prompt, yes_action, no_action, yes_label, no_label):
                buttons = "".join(
                    f'<button type="submit" class="button secondary" name="action" '
                    f'value="{esc(action)}">{esc(label)}</button>'
                    for label, action in ((yes_label, yes_action), (no_label, no_action))
                )
                parts.append(
                    f'<form class="turn-form feedback" method="post" action="/">'
                    f"<p>{esc(prompt)}</p>{hidden_fields(token, reply.lang)}{buttons}</form>"
                )
            case DisclaimerSection(text):
                parts.append(f'<p class="disclaimer">{esc(text)}</p>')
    kind = reply.kind.value
    return f'<article class="turn bot kind-{kind}" lang="{reply.lang}">{"".join(parts)}</article>'


def render_person(text: str, texts: Texts, lang: Lang) -> str:
    """What the person wrote, shown back only in the page (never kept)."""
    return (
        f'<div class="turn person"><span class="who">{esc(texts("web_you", lang))}:</span> '
        f"<p>{esc(text)}</p></div>"
    )


_PAGE = Template(Path(__file__).with_name("page.html").read_text(encoding="utf-8"))


def render_page(
    *, lang: Lang, token: str, turns: Iterable[str], texts: Texts, exit_url: str, notice: str = ""
) -> str:
    """The whole page: header with quick exit and language switch, the log, the form."""
    words = {key: esc(texts(key, lang)) for key in PAGE_TEXTS}
    other: Lang = "en" if lang == "nl" else "nl"
    return _PAGE.substitute(
        words,
        lang=lang,
        other=other,
        exit_url=esc(exit_url),
        hidden=hidden_fields(token, lang),
        notice=f'<p class="notice" role="status">{esc(notice)}</p>' if notice else "",
        turns="".join(turns),
    )
