"""The pages that run questions: try one question, and score a question file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot import LANGS, Engine, Lang, ReplyKind
from bot._kb import Entry
from bot._kbtools import OUTCOMES, judge, score_questions
from bot._yaml import YamlProblem, load_yaml_file
from workbench._explain import hits_for, words_of
from workbench._views import entry_link, esc, section, table, w, where

# --------------------------------------------------------------------------- try


def try_form(
    question: str = "", lang: str = "auto", compare: str = "", ids: Iterable[str] = ()
) -> str:
    options = "".join(
        f'<option value="{v}"{" selected" if v == lang else ""}>{w(k)}</option>'
        for v, k in (("auto", "auto"), ("nl", "lang_nl"), ("en", "lang_en"))
    )
    choices = "".join(f'<option value="{esc(i)}"></option>' for i in ids)
    return (
        f"<p>{w('try_intro')}</p>"
        '<form class="ask" id="try-form" method="post" action="/try" autocomplete="off">'
        f'<label for="q">{w("question")}</label>'
        f'<textarea id="q" name="q" rows="3" maxlength="4000" required>{esc(question)}</textarea>'
        f'<label for="lang">{w("question_lang")}</label>'
        f'<select id="lang" name="lang">{options}</select>'
        f'<label for="compare">{w("compare")}</label>'
        '<input id="compare" name="compare" list="entry-ids" maxlength="200" '
        f'value="{esc(compare)}">'
        f'<datalist id="entry-ids">{choices}</datalist>'
        f'<button type="submit" class="primary">{w("ask")}</button></form>'
    )


_KIND_KEYS = {
    ReplyKind.ANSWER: "kind_answer",
    ReplyKind.CLARIFY: "kind_clarify",
    ReplyKind.UNKNOWN: "kind_unknown",
    ReplyKind.CRISIS: "kind_crisis",
}


def _semantic_fact(engine: Engine, question: str, lang: Lang | None) -> str:
    """What the sentence model (bot/_semantic.py) did for this question."""
    analysis = engine.reader.read(question)
    decision, _ = engine.decider.decide_message(analysis, engine.reader, lang or analysis.lang)
    if decision.confirmed:
        return w("semantic_answered" if decision.outcome == "answer" else "semantic_elsewhere")
    return w("semantic_unsure" if decision.outcome == "clarify" else "semantic_not_used")


def try_result(engine: Engine, question: str, lang: Lang | None, compare: str = "") -> str:
    """The decision, the five best entries (and `compare`, the entry it should have found,
    wherever it ranks), how each word was read, and the routes."""
    reply = engine.ask(question, lang)
    key = _KIND_KEYS.get(reply.kind)
    decision = w(key) if key else w("kind_other", kind=reply.kind.value)
    facts = [
        (
            w("decision"),
            f'<strong class="decision kind-{esc(reply.kind.value)}">{decision}</strong>',
        )
    ]
    facts.append((w("confidence"), f"{reply.confidence:.3f}"))
    if engine.decider.check is not None and reply.kind is not ReplyKind.CRISIS:
        facts.append((w("semantic"), _semantic_fact(engine, question, lang)))
    if reply.kind is ReplyKind.ANSWER and reply.entry:
        facts.append((w("answered_entry"), entry_link(reply.entry, reply.lang)))
    facts.append((w("language"), esc(reply.lang)))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    matcher = engine.matcher
    guess = lang or matcher.language_of(question)
    matches = matcher.match(question, limit=5, lang=guess)
    words = {
        code: words_of(matcher, question, code, typos=guess is None or code == guess)
        for code in LANGS
    }

    def row(rank: str, entry: Entry, score: float, mlang: Lang) -> list[str]:
        hits = hits_for(matcher, words[mlang], entry.id, mlang)
        counted = (
            "<ul class='hits'>"
            + "".join(
                f"<li><q>{esc(h.word.written)}</q> ({w('how_' + h.word.how)}"
                f"{' → ' + esc(h.term) if h.term != h.word.written else ''}), "
                f"{w('strong' if h.strong else 'weak')}: {h.points:.2f}</li>"
                for h in sorted(hits, key=lambda h: -h.points)
            )
            + "</ul>"
            if hits
            else w("no_words")
        )
        have = {h.word.head for h in hits}
        # The recognised words this entry lacks: often the reason another entry won.
        lacks = [x.written for x in words[mlang] if x.terms and x.head not in have]
        if lacks:
            counted += f"<p>{w('lacks')}: {esc(', '.join(lacks))}</p>"
        return [
            rank,
            # A topic of elsewhere.yaml has no entry page.
            f"{esc(entry.id) if entry.outside else entry_link(entry.id, mlang)}"
            f"<br>{esc(entry.text(mlang).title)}"
            + (f"<br><em>{w('outside_topic')}</em>" if entry.outside else ""),
            f"{score:.3f}",
            esc(mlang),
            counted,
            where(entry.path, entry.line),
        ]

    rows = [row(str(rank), m.entry, m.score, m.lang) for rank, m in enumerate(matches, 1)]
    if compare and compare not in {m.entry.id for m in matches}:
        ranked = matcher.match(question, limit=len(matcher.entries), lang=guess)
        spot = next((i for i, m in enumerate(ranked) if m.entry.id == compare), None)
        chosen = engine.kb.by_id.get(compare)
        if spot is not None:
            m = ranked[spot]
            rows.append(row(str(spot + 1), m.entry, m.score, m.lang))
        elif chosen is not None:
            rows.append(row("-", chosen, 0.0, guess or "nl"))
    top = table(
        w("top"),
        (w("rank"), w("entries"), w("score"), w("matched_lang"), w("words_counted"), w("file")),
        rows,
    )
    word_tables = []
    for code in LANGS:
        word_rows = [
            [
                esc(x.written),
                esc(x.head.replace("_", " ")),
                w("how_" + x.how),
                esc(", ".join(t for t, _ in x.terms) or "-"),
                f"{x.weight:.2f}",
            ]
            for x in words[code]
        ]
        word_tables.append(
            table(
                w("words_of_question", lang=w("lang_" + code)),
                (w("written"), w("head"), w("how"), w("term"), w("weight")),
                word_rows,
            )
        )
    roles = engine.kb.roles
    routes = "".join(
        f"<li><code>{esc(r)}</code> {esc(roles[r].names.get(reply.lang, r) if r in roles else '')}"
        "</li>"
        for r in reply.routes
    )
    contacts = "".join(
        f"<li>{esc(c.name)} <code>{esc(c.role)}</code>"
        f"{' · ' + esc(c.organisation) if c.organisation else ''}</li>"
        for c in reply.contacts
    )
    route_html = f"<ul>{routes}</ul>" if routes else f"<p>{w('no_routes')}</p>"
    if contacts:
        route_html += f"<ul>{contacts}</ul>"
    return (
        section("decision", w("decision"), f'<dl class="meta-list">{dl}</dl>', ' id="result"')
        + section("top", w("top"), top)
        + section("words", w("words_heading"), "".join(word_tables))
        + section("routes", w("routes_shown"), route_html)
    )


# --------------------------------------------------------------------------- question sets


# --------------------------------------------------------------------------- question sets


def question_files(root: Path) -> list[str]:
    """Question files under knowledge/tests/, as paths relative to that folder."""
    folder = root / "tests"
    if not folder.is_dir():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.yaml") if p.is_file())


def sets_list(root: Path, chosen: str = "") -> str:
    options = "".join(
        f'<option value="{esc(f)}"{" selected" if f == chosen else ""}>{esc(f)}</option>'
        for f in question_files(root)
    )
    return (
        f"<p>{w('sets_intro')}</p>"
        '<form class="ask" method="get" action="/sets">'
        f'<label for="file">{w("set_file")}</label><select id="file" name="file">{options}</select>'
        f'<button type="submit" class="primary">{w("run")}</button></form>'
    )


def _share(xs: list[bool]) -> str:
    return f"{100 * sum(xs) / len(xs):.1f}% ({sum(xs)}/{len(xs)})" if xs else "n/a"


def sets_result(engine: Engine, path: Path, shown: str) -> str:
    """`kb test FILE` in the page: the figures of bot._kbtools, then each miss to try.

    Args:
        shown: The file's path as the coordinator knows it (for file and line).
    """
    try:
        score = score_questions(engine, path)
        items = load_yaml_file(path)
    except YamlProblem as exc:
        problem = f"{exc.line}: {exc.message}"
        return f'<p class="status bad" role="alert">{w("set_error", problem=problem)}</p>'
    outcome_rows = [[esc(k), str(score.outcomes[k])] for k in OUTCOMES]
    figures = (
        f"<p>{w('strict', share=_share(score.groups['in_scope']))}<br>"
        f"{w('oos', share=_share(score.groups['out_of_scope']))}<br>"
        f"{w('crisis_found', share=_share(score.groups['crisis']), n=score.false_alarms)}</p>"
    )
    outcomes = table(w("outcomes"), (w("outcome"), w("count")), outcome_rows)
    parts = [section("outcomes", w("outcomes"), figures + outcomes)]
    known = engine.kb.by_id

    def link(eid: str) -> str:
        return entry_link(eid) if eid in known else esc(eid)

    pairs = [[link(a), link(b), str(n)] for (a, b), n in score.confusions.most_common()]
    heads = (w("expected"), w("answered"), w("count"))
    conf = table(w("confusions"), heads, pairs) if pairs else f"<p>{w('none')}</p>"
    parts.append(section("conf", w("confusions"), conf))
    never = ", ".join(entry_link(e) for e in score.never_hit)
    heading = f"{w('never_hit')} ({len(score.never_hit)})"
    parts.append(section("never", heading, f"<p>{never or w('none')}</p>"))
    named: set[str] = set()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            value = item.get("entry")
            if isinstance(value, str):
                named.add(value)
            elif isinstance(value, list):
                named.update(str(v) for v in value)
    missing = sorted(n for n in named if n and n not in known)
    if missing:
        parts.append(section("missing", w("set_missing"), f"<p>{esc(', '.join(missing))}</p>"))
    rows = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            continue
        q = " ".join(item["q"].split())
        reply = engine.ask(q)
        matched = reply.kind is ReplyKind.ANSWER
        ok = judge(item, set(reply.routes), matched, reply.plain_text())
        # As the score script counts: in scope only an outright right answer is good.
        if ok if item.get("oos") or item.get("crisis") else ok and matched:
            continue
        expected = item.get("entry")
        names = (
            [expected]
            if isinstance(expected, str)
            else [str(x) for x in expected]
            if isinstance(expected, list)
            else []
        )
        got = f"{esc(reply.kind.value)} {link(reply.entry) if matched and reply.entry else ''}"
        rows.append(
            [
                f"{esc(q)}<br>{where(shown, getattr(item, 'line', 0))}",
                ", ".join(link(n) for n in names) or "-",
                got,
                '<form method="post" action="/try" class="inline">'
                f'<input type="hidden" name="q" value="{esc(q)}">'
                f'<button type="submit" class="secondary">{w("try_this")}</button></form>',
            ]
        )
    fail_heads = (w("question"), w("expected"), w("got"), w("try_this"))
    fails = table(w("failures"), fail_heads, rows) if rows else f"<p>{w('none')}</p>"
    parts.append(section("fail", f"{w('failures')} ({len(rows)})", fails))
    return "".join(parts)
