"""The yearly report for counsellors, from the stored use figures, with small numbers hidden.

Every published figure goes through `Publisher`, which applies one rule: a count below
10 is shown as "< 10"; a total is shown only when none of the counts it adds up is
hidden (so every total is the sum of numbers already public and reveals nothing new);
a percentage only when both its parts are 10 or more. Months become quarters when most
month cells would be hidden. Weeks (the finest time stored) go to the month of their
Thursday, as ISO 8601 does for years.

`figures()` builds the tables once; HTML, PDF, CSV and JSON are renderings of the very
same tables, so the four can never disagree.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot._kb import KnowledgeBase
from bot._stats import Event
from bot._stats_store import CountRow

#: Counts below this are never published.
SMALL = 10
#: How many entries "most used" lists at most.
TOP_ENTRIES = 10
QUESTION_EVENTS = (Event.ANSWERED.value, Event.CLARIFY.value, Event.UNKNOWN.value)

Cell = int | str


@dataclass(slots=True)
class Table:
    """One published table: every cell already passed the small-number rule."""

    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    note: str = ""
    #: Which columns a chart draws (indexes into `columns`), and whether they are shares.
    chart: list[int] = field(default_factory=list)
    percent: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": self.columns,
            "rows": [{"label": label, "values": values} for label, values in self.rows],
            **({"note": self.note} if self.note else {}),
        }


class Publisher:
    """The small-number rule, in one place."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.hidden = kb.text("report_hidden", "nl")
        self.withheld = kb.text("report_withheld", "nl")

    def count(self, n: int) -> Cell:
        return n if n >= SMALL else self.hidden

    def total(self, parts: Iterable[int]) -> Cell:
        values = list(parts)
        if values and all(v >= SMALL for v in values):
            return sum(values)
        return self.withheld

    def part(self, part: int, whole: int) -> Cell:
        """A count that is part of a total published elsewhere: shown only when the rest
        is 10 or more too, or the total minus this count would be a small number."""
        if part < SMALL:
            return self.hidden
        return part if whole - part >= SMALL else self.withheld

    def share(self, part: int, whole: int) -> Cell:
        """Whole percent, only when the part and the rest are both 10 or more."""
        if part >= SMALL and whole - part >= SMALL:
            return round(100 * part / whole)
        return self.withheld


def week_date(week: str) -> _dt.date:
    """The Thursday of an ISO week ("2026-W07"): it decides the week's month and quarter."""
    year, _, num = week.partition("-W")
    return _dt.date.fromisocalendar(int(year), int(num), 4)


@dataclass(slots=True)
class Report:
    """All tables of one year (and organisation), plus the text to paste."""

    year: int
    organisation: str | None
    title: str
    intro: str
    rule: str
    period: str
    tables: list[Table]
    paste: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "organisation": self.organisation,
            "title": self.title,
            "rule": self.rule,
            "period": self.period,
            "tables": {t.key: t.as_json() for t in self.tables},
            "paste": " ".join(self.paste),
        }


def _theme_titles(kb: KnowledgeBase) -> dict[str, str]:
    titles = {t.id: t.titles["nl"] for t in kb.themes}
    titles[""] = kb.text("report_no_theme", "nl")
    return titles


def _entry_title(kb: KnowledgeBase, eid: str) -> str:
    entry = kb.by_id.get(eid)
    return entry.text("nl").title if entry else eid


def _periods(
    kb: KnowledgeBase, year: int, today: _dt.date, by_quarter: bool
) -> tuple[list[str], int]:
    """Period labels up to now (a year still running has no future periods)."""
    last = week_date(f"{today.isocalendar()[0]:04d}-W{today.isocalendar()[1]:02d}")
    if by_quarter:
        labels = [q.strip() for q in kb.text("report_quarters", "nl").split(",")]
        count = 4 if year < last.year else (last.month - 1) // 3 + 1
    else:
        labels = [m.strip() for m in kb.text("report_months", "nl").split(",")]
        count = 12 if year < last.year else last.month
    return labels[: max(count, 1)], max(count, 1)


def figures(
    kb: KnowledgeBase,
    rows: Sequence[CountRow],
    crisis: Mapping[str, int],
    year: int,
    organisation: str | None = None,
    today: _dt.date | None = None,
) -> Report:
    """Every table of the yearly report, small numbers hidden."""
    today = today or _dt.date.today()
    pub = Publisher(kb)
    text = kb.text
    rows = [
        r
        for r in rows
        if r.week.startswith(f"{year:04d}-W") and organisation in (None, r.organisation)
    ]
    themes = _theme_titles(kb)
    theme_ids = [t.id for t in kb.themes]

    # Questions per theme and month; quarters when most filled month cells are small.
    per_month: Counter[tuple[str, int]] = Counter()
    for r in rows:
        if r.event in QUESTION_EVENTS:
            per_month[(r.theme, week_date(r.week).month)] += r.n
    # Judged on the months so far of every theme asked about: a month with nothing in
    # it shows as "< 10" all the same.
    _, months_so_far = _periods(kb, year, today, by_quarter=False)
    filled = [
        per_month[(theme, m)]
        for theme in {t for t, _ in per_month}
        for m in range(1, months_so_far + 1)
    ]
    by_quarter = not filled or sum(n >= SMALL for n in filled) * 2 < len(filled)
    labels, nperiods = _periods(kb, year, today, by_quarter)
    grid: dict[str, list[int]] = {}
    extra = [t for t in sorted({t for t, _ in per_month} - set(theme_ids)) if t]
    for tid in [*theme_ids, *extra, ""]:
        cells = [0] * nperiods
        for (theme, month), n in per_month.items():
            if theme == tid:
                idx = (month - 1) // 3 if by_quarter else month - 1
                if idx < nperiods:
                    cells[idx] += n
        grid[tid] = cells
    period = text("report_period_quarter" if by_quarter else "report_period_month", "nl")
    q_rows: list[tuple[str, list[Cell]]] = [
        (themes.get(tid, tid), [*(pub.count(n) for n in cells), pub.total(cells)])
        for tid, cells in grid.items()
    ]
    columns_total = [[grid[t][i] for t in grid] for i in range(nperiods)]
    all_cells = [n for cells in grid.values() for n in cells]
    q_rows.append(
        (text("report_total", "nl"), [*(pub.total(c) for c in columns_total), pub.total(all_cells)])
    )
    questions = Table(
        "questions",
        text("report_questions_title", "nl", period=period),
        [text("report_theme", "nl"), *labels, text("report_total", "nl")],
        q_rows,
        chart=list(range(1, nperiods + 1)),
    )

    # Share answered: per theme the share of themed questions answered outright.
    answered: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    for r in rows:
        if r.event in QUESTION_EVENTS:
            asked[r.theme] += r.n
            if r.event == Event.ANSWERED.value:
                answered[r.theme] += r.n
    a_rows: list[tuple[str, list[Cell]]] = [
        (themes.get(t, t), [pub.share(answered[t], asked[t])]) for t in [*theme_ids, *extra]
    ]
    a_rows.append(
        (
            text("report_all_themes", "nl"),
            [pub.share(sum(answered.values()), sum(asked.values()))],
        )
    )
    share = Table(
        "answered",
        text("report_answered_title", "nl"),
        [text("report_theme", "nl"), text("report_answered_share", "nl")],
        a_rows,
        chart=[1],
        percent=True,
    )

    # Most used entries: only those given 10 times or more, so none is a small number.
    used: Counter[str] = Counter()
    for r in rows:
        if r.event == Event.ANSWERED.value and r.entry:
            used[r.entry] += r.n
    top = sorted(((n, e) for e, n in used.items() if n >= SMALL), key=lambda x: (-x[0], x[1]))
    entries = Table(
        "entries",
        text("report_entries_title", "nl"),
        [text("report_entry", "nl"), text("report_times", "nl")],
        [(_entry_title(kb, e), [n]) for n, e in top[:TOP_ENTRIES]],
        note="" if top else text("report_entries_none", "nl"),
    )

    # Helpfulness per theme.
    yes: Counter[str] = Counter()
    no: Counter[str] = Counter()
    for r in rows:
        if r.event == Event.HELPED.value:
            yes[r.theme] += r.n
        elif r.event == Event.NOT_HELPED.value:
            no[r.theme] += r.n
    h_rows: list[tuple[str, list[Cell]]] = [
        (themes.get(t, t), [pub.count(yes[t]), pub.count(no[t]), pub.share(yes[t], yes[t] + no[t])])
        for t in [*theme_ids, *extra]
    ]
    help_table = Table(
        "helpfulness",
        text("report_help_title", "nl"),
        [
            text("report_theme", "nl"),
            text("report_help_yes", "nl"),
            text("report_help_no", "nl"),
            text("report_help_share", "nl"),
        ],
        h_rows,
        chart=[3],
        percent=True,
    )

    # Crisis: weeks with at least one crisis reply, per quarter, all organisations.
    quarters: Counter[int] = Counter()
    for week, n in crisis.items():
        if week.startswith(f"{year:04d}-W") and n > 0:
            quarters[(week_date(week).month - 1) // 3] += 1
    qlabels = [q.strip() for q in text("report_quarters", "nl").split(",")]
    crisis_table = Table(
        "crisis",
        text("report_crisis_title", "nl"),
        [text("report_quarter", "nl"), text("report_crisis_col", "nl")],
        [(qlabels[i], [pub.count(quarters[i])]) for i in range(_periods(kb, year, today, True)[1])],
        note=text("report_crisis_note", "nl"),
        chart=[1],
    )

    tables = [questions, share, entries, help_table, crisis_table]
    org_name = ""
    if organisation is not None:
        org = next((o for o in kb.organisations if o.id == organisation), None)
        org_name = org.names["nl"] if org else organisation
    title = (
        text("report_title_org", "nl", year=year, organisation=org_name)
        if organisation is not None
        else text("report_title", "nl", year=year)
    )
    paste = _paste(kb, year, q_rows[-1][1][-1], grid, share, yes, no, crisis_table, pub)
    return Report(
        year,
        organisation,
        title,
        text("report_intro", "nl"),
        text("report_rule", "nl"),
        "quarter" if by_quarter else "month",
        tables,
        paste,
    )


def _paste(
    kb: KnowledgeBase,
    year: int,
    grand: Cell,
    grid: Mapping[str, list[int]],
    share: Table,
    yes: Counter[str],
    no: Counter[str],
    crisis: Table,
    pub: Publisher,
) -> list[str]:
    """A few plain sentences (B1) built only from figures the tables publish."""
    text = kb.text
    out = [text("report_paste_intro", "nl", year=year)]
    if isinstance(grand, int):
        out.append(text("report_paste_total", "nl", n=grand))
    # The two themes asked about most: an order, no number (each has 10 or more anyway).
    themes = _theme_titles(kb)
    totals = [(sum(cells), tid) for tid, cells in grid.items() if tid and sum(cells) >= SMALL]
    top = [f"'{themes.get(t, t).split(' (')[0]}'" for _, t in sorted(totals, reverse=True)[:2]]
    if top:
        joined = f" {text('report_paste_and', 'nl')} ".join(top)
        out.append(text("report_paste_top", "nl", themes=joined))
    overall = share.rows[-1][1][0]
    if isinstance(overall, int):
        out.append(text("report_paste_answered", "nl", pct=overall))
    helped = pub.share(sum(yes.values()), sum(yes.values()) + sum(no.values()))
    if isinstance(helped, int):
        out.append(text("report_paste_helped", "nl", pct=helped))
    if any(isinstance(v[0], int) for _, v in crisis.rows):
        out.append(text("report_paste_crisis", "nl"))
    out.append(text("report_paste_privacy", "nl"))
    return out


def weak_spots(
    kb: KnowledgeBase, rows: Sequence[CountRow], year: int, organisation: str | None = None
) -> Report:
    """For coordinators: entries that did not help, themes with most "did you mean" or
    "don't know"; counts only, the same rule."""
    pub = Publisher(kb)
    text = kb.text
    rows = [
        r
        for r in rows
        if r.week.startswith(f"{year:04d}-W") and organisation in (None, r.organisation)
    ]
    yes: Counter[str] = Counter()
    no: Counter[str] = Counter()
    for r in rows:
        if r.entry and r.event == Event.HELPED.value:
            yes[r.entry] += r.n
        elif r.entry and r.event == Event.NOT_HELPED.value:
            no[r.entry] += r.n
    # Listed only with 10 or more "no": the order never rests on a hidden number.
    listed = sorted((e for e in no if no[e] >= SMALL), key=lambda e: (-no[e], e))
    entries = Table(
        "weak_entries",
        text("report_weak_entries", "nl"),
        [
            text("report_entry", "nl"),
            text("report_help_no", "nl"),
            text("report_help_yes", "nl"),
            text("report_help_share", "nl"),
        ],
        [
            (
                _entry_title(kb, e),
                [pub.count(no[e]), pub.count(yes[e]), pub.share(yes[e], yes[e] + no[e])],
            )
            for e in listed
        ],
        note="" if listed else text("report_weak_entries_none", "nl"),
    )
    # A question without a confident answer: "did you mean" carries the theme of its
    # closest suggestion, "don't know" has none ("Onderwerp niet herkend").
    stuck: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    for r in rows:
        if r.event in QUESTION_EVENTS:
            asked[r.theme] += r.n
        if r.event in (Event.CLARIFY.value, Event.UNKNOWN.value):
            stuck[r.theme] += r.n
    themes = _theme_titles(kb)
    order = sorted(stuck, key=lambda t: (-(stuck[t] if stuck[t] >= SMALL else 0), themes.get(t, t)))
    stuck_table = Table(
        "weak_themes",
        text("report_weak_themes", "nl"),
        [text("report_theme", "nl"), text("report_not_answered", "nl")],
        # Unrecognised questions are never answered, so their rest is no secret.
        [
            (themes.get(t, t), [pub.part(stuck[t], asked[t]) if t else pub.count(stuck[t])])
            for t in order
        ],
    )
    return Report(
        year,
        organisation,
        text("report_weak_title", "nl", year=year),
        text("report_intro", "nl"),
        text("report_rule", "nl"),
        "year",
        [entries, stuck_table],
        [],
    )
