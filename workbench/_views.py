"""The workbench pages as HTML strings (layout, overview, entry view): every value escaped,
wording from wording.yaml. The pages that run questions are in workbench/_questions.py."""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections import Counter
from collections.abc import Iterable
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot import LANGS, Engine, Lang, Message, Reply
from bot._kb import Entry, Problem
from bot._state import State
from workbench._state import Snapshot

#: Entries whose last review is older than this many days are due.
REVIEW_DAYS = 365
CURRENT = ' aria-current="page"'
#: Lines shown around an offending line.
CONTEXT_LINES = 2


WORDING = Path(__file__).with_name("wording.yaml")
#: The language of the pages being built; the app sets it per request from the browser's
#: first language (a context variable, so it follows the request into worker threads).
UI_LANG: ContextVar[Lang] = ContextVar("workbench_ui_lang", default="en")


@cache
def _wording() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(WORDING.read_text(encoding="utf-8"))
    return {str(lang): {str(k): str(v) for k, v in d.items()} for lang, d in data.items()}


def wording(key: str, lang: Lang = "en") -> str:
    """A workbench wording as plain text (for the terminal)."""
    return _wording()[lang][key]


def w(key: str, **values: object) -> str:
    """A workbench wording in the page's language, escaped, `{placeholders}` filled in."""
    text = _wording()[UI_LANG.get()][key]
    return esc(text.format(**values) if values else text)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def copy_button(text: str, label_key: str = "copy") -> str:
    return f'<button type="button" class="copy" data-copy="{esc(text)}">{w(label_key)}</button>'


def where(path: str, line: int) -> str:
    """`file:line` with a copy button: where the coordinator edits."""
    spot = f"{path}:{line}" if line else path
    return f'<span class="where"><code>{esc(spot)}</code> {copy_button(spot, "copy_where")}</span>'


# --------------------------------------------------------------------------- layout


def layout(snap: Snapshot, root: Path, title: str, body: str, *, current: str) -> str:
    nav = "".join(
        f'<li><a href="{href}"{CURRENT if key == current else ""}>{w(key)}</a></li>'
        for key, href in (("nav_overview", "/"), ("nav_try", "/try"), ("nav_sets", "/sets"))
    )
    checked = snap.checked.isoformat(sep=" ")
    if snap.engine is None:
        status = f'<p class="status bad" role="alert">{w("status_none", root=root)}</p>'
    elif snap.refused:
        status = f'<p class="status bad" role="alert">{w("status_refused", checked=checked)}</p>'
    else:
        status = f'<p class="status ok">{w("status_ok", root=root, checked=checked)}</p>'
    return (
        f'<!doctype html><html lang="{UI_LANG.get()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · {w('title')}</title>"
        # No favicon request (and no 404 for it): an empty icon inline.
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/workbench.css">'
        '<script src="/static/workbench.js" defer></script></head>'
        f'<body data-version="{snap.version}">'
        f'<a class="skip-link" href="#main">{w("skip")}</a>'
        f'<header class="site-header"><div class="header-bar"><p class="site-name">{w("title")}</p>'
        f'<nav aria-label="{w("nav_label")}"><ul class="nav">{nav}</ul></nav></div></header>'
        f'<main id="main" tabindex="-1"><h1>{esc(title)}</h1>{status}'
        f'<p class="meta">{w("live_note")}</p>{body}</main></body></html>'
    )


# --------------------------------------------------------------------------- overview


def _excerpt(root: Path, p: Problem) -> str:
    """The offending lines, read fresh from the file (the coordinator's current text)."""
    if p.line <= 0:
        return ""
    path = Path(p.path)
    if not path.is_absolute():
        path = root.parent / path
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    start = max(1, p.line - CONTEXT_LINES)
    end = min(len(lines), p.line + CONTEXT_LINES)
    if start > end:
        return ""
    rows = "".join(
        f'<span class="{"hit" if n == p.line else "ctx"}">'
        f'<span class="ln">{n:>4}</span> {esc(lines[n - 1])}</span>'
        for n in range(start, end + 1)
    )
    label = w("lines_of", start=start, end=end, file=p.path)
    return f'<pre class="excerpt" tabindex="0" aria-label="{label}"><code>{rows}</code></pre>'


def problems_html(root: Path, problems: Iterable[Problem]) -> str:
    items = sorted(problems, key=lambda p: (p.severity != "error", p.path, p.line))
    if not items:
        return f"<p>{w('no_problems')}</p>"
    errors = sum(p.severity == "error" for p in items)
    head = (
        f"<p><strong>{w('errors_count', n=errors)}</strong>, "
        f"{w('warnings_count', n=len(items) - errors)}</p>"
    )
    rows = []
    for p in items:
        sev = "error" if p.severity == "error" else "warning"
        rows.append(
            f'<li class="problem {sev}"><p><span class="badge {sev}">{w(sev)}</span> '
            f"{where(p.path, p.line)}</p>"
            f"<p><strong>{w('what_to_fix')}:</strong> {esc(p.message)}</p>{_excerpt(root, p)}</li>"
        )
    return f'{head}<ul class="problems">{"".join(rows)}</ul>'


def section(key: str, heading: str, body: str, extra: str = "") -> str:
    """A titled part of a page; `key` makes the heading's id."""
    return (
        f'<section aria-labelledby="h-{key}"{extra}><h2 id="h-{key}">{heading}</h2>{body}</section>'
    )


def table(caption: str, heads: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    th = "".join(f'<th scope="col">{h}</th>' for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<table><caption>{caption}</caption><thead><tr>{th}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def entry_link(entry_id: str, lang: Lang | None = None) -> str:
    query = f"?lang={lang}" if lang else ""
    return f'<a href="/entry/{esc(entry_id)}{query}">{esc(entry_id)}</a>'


def _entry_rows(entries: Iterable[Entry]) -> list[list[str]]:
    return [
        [
            entry_link(e.id),
            esc(e.text("nl").title),
            esc(e.owner),
            esc(e.reviewed.isoformat() if e.reviewed != _dt.date.min else "-"),
            where(e.path, e.line),
        ]
        for e in entries
    ]


def overview(snap: Snapshot, root: Path, today: _dt.date | None = None) -> str:
    today = today or _dt.date.today()
    parts = [section("problems", w("problems"), problems_html(root, snap.problems))]
    engine = snap.engine
    if engine is not None:
        kb = engine.kb
        themes = Counter(e.theme for e in kb.entries)
        titles = {t.id: t.titles.get("nl", t.id) for t in kb.themes}
        langs = Counter(lang for e in kb.entries for lang in e.texts)
        audiences = Counter(a for e in kb.entries for a in e.audience)
        parts.append('<section aria-labelledby="h-counts">')
        parts.append(f'<h2 id="h-counts">{w("counts")}</h2><div class="grid3">')
        parts.append(
            table(
                w("per_theme"),
                (w("theme"), w("entries")),
                (
                    [f"{esc(titles.get(t, t))} <code>{esc(t)}</code>", str(n)]
                    for t, n in sorted(themes.items())
                ),
            )
        )
        parts.append(
            table(
                w("per_language"),
                (w("language"), w("entries")),
                ([esc(k), str(langs[k])] for k in LANGS),
            )
        )
        parts.append(
            table(
                w("per_audience"),
                (w("audience"), w("entries")),
                ([esc(k), str(n)] for k, n in sorted(audiences.items())),
            )
        )
        parts.append("</div></section>")
        due = [
            e
            for e in kb.entries
            if e.reviewed != _dt.date.min and (today - e.reviewed).days > REVIEW_DAYS
        ]
        never = [e for e in kb.entries if e.reviewed == _dt.date.min]
        heads = (w("id"), w("title_col"), w("owner"), w("reviewed"), w("file"))
        parts.append(
            '<section aria-labelledby="h-review">' + f'<h2 id="h-review">{w("review")}</h2>'
        )
        for label, group in ((w("due"), due), (w("never"), never)):
            parts.append(
                table(label, heads, _entry_rows(sorted(group, key=lambda e: e.reviewed)))
                if group
                else f"<h3>{label}</h3><p>{w('none')}</p>"
            )
        parts.append("</section>")
        parts.append(_dangling(snap))
        parts.append(
            section(
                "all", w("all_entries"), table(w("all_entries"), heads, _entry_rows(kb.entries))
            )
        )
    return "".join(parts)


_DANGLING_WORDS = ("does not exist", "is not in themes.yaml", "unknown role", "not a known")


def _dangling(snap: Snapshot) -> str:
    assert snap.engine is not None
    kb = snap.engine.kb
    items = [
        f"<li>{where(p.path, p.line)} {esc(p.message)}</li>"
        for p in snap.problems
        if any(word in p.message for word in _DANGLING_WORDS)
    ]
    filled = {r for c in kb.national for r in c.roles} | {
        r for o in kb.organisations for c in o.contacts for r in c.roles
    }
    routed: dict[str, list[Entry]] = {}
    for e in kb.entries:
        for r in e.routes:
            routed.setdefault(r, []).append(e)
    for role, entries in sorted(routed.items()):
        if role not in filled:
            links = ", ".join(entry_link(e.id) for e in entries[:10])
            items.append(f"<li>{w('no_contact', role=role)} {links}</li>")
    body = f"<ul>{''.join(items)}</ul>" if items else f"<p>{w('dangling_none')}</p>"
    return section("dangling", w("dangling"), body)


# --------------------------------------------------------------------------- entry view


def entry_reply(engine: Engine, entry_id: str, lang: Lang, details: bool) -> Reply:
    """The reply a person gets on picking this entry: the engine's own path, no history."""
    state = State(lang=lang, lang_chosen=True, counsellor=details)
    message = Message(conversation="workbench", text="", action=f"entry:{entry_id}")
    return engine.respond(message, state)


def entry_view(
    engine: Engine, entry: Entry, lang: Lang, details: bool, texts: dict[str, str]
) -> str:
    """Meta data, switches, and the four channel previews side by side.

    Args:
        texts: The previews, rendered by each adapter: `console`, `matrix`, `teams` (card
            JSON), `web`; `teams_renderer` is "yes" when the card renderer is installed.
    """
    meta = [
        (w("file"), where(entry.path, entry.line)),
        (w("theme"), esc(entry.theme)),
        (w("audience"), esc(", ".join(entry.audience))),
        (w("routes"), esc(", ".join(entry.routes))),
        (w("related"), ", ".join(entry_link(r) for r in entry.related) or "-"),
        (w("owner"), esc(entry.owner)),
        (w("reviewed"), esc(entry.reviewed.isoformat() if entry.reviewed != _dt.date.min else "-")),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
    switches = []
    for code in LANGS:
        for d in (False, True):
            label = f"{w('lang_' + code)}: {w('with_details' if d else 'without_details')}"
            href = f"/entry/{esc(entry.id)}?lang={code}&amp;details={int(d)}"
            cur = ' aria-current="page"' if (code, d) == (lang, details) else ""
            switches.append(f'<li><a href="{href}"{cur}>{label}</a></li>')
    if not entry.text(lang).details:
        switches.append(f'<li class="meta">{w("no_details", lang=lang)}</li>')
    card = texts["teams"]
    teams_body = (
        '<div class="ac-host" data-card-for="teams-json"></div>'
        if texts.get("teams_renderer") == "yes"
        else f'<p class="notice">{w("teams_no_renderer")}</p>'
    )
    panels = [
        (
            "console",
            f'<pre class="console" tabindex="0"><code>{esc(texts["console"])}</code></pre>'
            f"{copy_button(texts['console'])}",
        ),
        (
            "matrix",
            f'<div class="matrix-view">{texts["matrix"]}</div>'
            f"<details><summary>{w('show_source')}</summary>"
            f'<pre tabindex="0"><code>{esc(texts["matrix"])}</code></pre>'
            f"{copy_button(texts['matrix'])}</details>",
        ),
        (
            "teams",
            f"{teams_body}"
            f'<script type="application/json" id="teams-json">{_json_for_script(card)}</script>'
            f"<details><summary>{w('show_source')}</summary>"
            f'<pre tabindex="0"><code>{esc(card)}</code></pre>{copy_button(card)}</details>',
        ),
        # The web fragment's buttons post to the web chat, not here: shown, not usable.
        ("web", f'<div class="web-view" inert>{texts["web"]}</div>'),
    ]
    grid = "".join(
        f'<section class="panel" aria-labelledby="h-{key}"><h3 id="h-{key}">{w(key)}</h3>'
        f"{body}</section>"
        for key, body in panels
    )
    return (
        f'<dl class="meta-list">{dl}</dl><ul class="switches">{"".join(switches)}</ul>'
        f'<h2>{w("channels")}</h2><div class="channels" lang="{lang}">{grid}</div>'
    )


def _json_for_script(text: str) -> str:
    # Inside <script type="application/json"> only "</" can end the element early.
    return text.replace("</", "<\\/")


def card_json(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False, indent=2)
