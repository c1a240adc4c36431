"""The yearly report written out: CSV, HTML with charts, PDF, and plain text.

All four render the very same tables from `bot._report.figures()`, so they never disagree.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Mapping
from pathlib import Path

from bot._kb import KnowledgeBase
from bot._report import SMALL, Cell, Report, Table

# --------------------------------------------------------------------------- rendering


def _display(cell: Cell, percent: bool = False) -> str:
    if isinstance(cell, int):
        return f"{cell}%" if percent else str(cell)
    return cell


def _chart_png(table: Table, kb: KnowledgeBase) -> bytes | None:
    """A chart of the table's chart columns; hidden cells drawn as nothing, labelled."""
    if not table.chart or not table.rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    hidden_label = kb.text("report_chart_hidden", "nl")
    rows = [
        (label, values) for label, values in table.rows if label != kb.text("report_total", "nl")
    ]
    fig, ax = plt.subplots(
        figsize=(8, 0.5 + 0.45 * max(len(rows), 3) * max(len(table.chart), 1) ** 0.5)
    )
    try:
        if len(table.chart) == 1:
            col = table.chart[0]
            labels = [label for label, _ in rows]
            values = [v[col - 1] for _, v in rows]
            nums = [v if isinstance(v, int) else 0 for v in values]
            bars = ax.barh(range(len(rows)), nums, color="#2f6f9f")
            ax.set_yticks(range(len(rows)), [_short(lbl) for lbl in labels])
            ax.invert_yaxis()
            for bar, v in zip(bars, values, strict=True):
                shown = _display(v, table.percent)
                ax.annotate(
                    shown,
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                )
            # Room for the labels; an axis that starts at 0 even when all is hidden.
            ax.set_xlim(0, 110 if table.percent else max([*nums, SMALL]) * 1.15)
        else:
            width = 0.8 / max(len(rows), 1)
            cols = table.chart
            for i, (label, values) in enumerate(rows):
                nums = [v if isinstance(v := values[c - 1], int) else 0 for c in cols]
                xs = [j + i * width for j in range(len(cols))]
                ax.bar(xs, nums, width=width, label=_short(label))
            ax.set_xticks(
                [j + 0.4 - width / 2 for j in range(len(cols))],
                [table.columns[c] for c in cols],
            )
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
            ax.set_xlabel(hidden_label, fontsize=7)
        ax.spines[["top", "right"]].set_visible(False)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        return buf.getvalue()
    finally:
        plt.close(fig)


def _short(label: str, limit: int = 40) -> str:
    label = label.split(" (")[0]
    return label if len(label) <= limit else label[: limit - 1] + "…"


def write_csv(report: Report, path: Path) -> None:
    """One line per published cell: table, row, column, value (as shown)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["table", "row", "column", "value"])
        for t in report.tables:
            for label, values in t.rows:
                for col, cell in zip(t.columns[1:], values, strict=True):
                    w.writerow([t.key, label, col, _display(cell)])


def _table_html(t: Table) -> str:
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in t.columns)
    body = []
    for label, values in t.rows:
        cells = "".join(f"<td>{html.escape(_display(v))}</td>" for v in values)
        body.append(f'<tr><th scope="row">{html.escape(label)}</th>{cells}</tr>')
    return (
        f"<table><caption>{html.escape(t.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def write_html(report: Report, path: Path, kb: KnowledgeBase, charts: Mapping[str, bytes]) -> None:
    parts = [
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">',
        f"<title>{html.escape(report.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.5}"
        ".pair{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em}"
        "td{text-align:right}caption{font-weight:bold;text-align:left}"
        "img{max-width:100%}.rule{background:#f3f3f3;padding:.5em 1em}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
        f"<p>{html.escape(report.intro)}</p>",
        f'<p class="rule">{html.escape(report.rule)}</p>',
    ]
    for t in report.tables:
        parts.append(f"<section><h2>{html.escape(t.title)}</h2>")
        if t.note:
            parts.append(f"<p>{html.escape(t.note)}</p>")
        parts.append('<div class="pair">')
        png = charts.get(t.key)
        if png is not None:
            alt = kb.text("report_chart_alt", "nl", title=t.title)
            data = base64.b64encode(png).decode("ascii")
            parts.append(f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">')
        if t.rows:
            parts.append(_table_html(t))
        parts.append("</div></section>")
    if report.paste:
        parts.append(f"<section><h2>{html.escape(kb.text('report_paste_title', 'nl'))}</h2>")
        parts.append(f"<p>{html.escape(' '.join(report.paste))}</p></section>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_pdf(report: Report, path: Path, kb: KnowledgeBase, charts: Mapping[str, bytes]) -> None:
    """A4 PDF with fpdf2: charts as images, each followed by its table."""
    import matplotlib
    from fpdf import FPDF

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(font / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(font / "DejaVuSans-Bold.ttf"))
    pdf.set_title(report.title)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 8, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 5, report.intro, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(0, 5, report.rule, new_x="LMARGIN", new_y="NEXT")
    for t in report.tables:
        # A heading never stands alone at the foot of a page.
        if pdf.get_y() > pdf.h - 90:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 6, t.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        if t.note:
            pdf.multi_cell(0, 5, t.note, new_x="LMARGIN", new_y="NEXT")
        png = charts.get(t.key)
        if png is not None:
            pdf.image(io.BytesIO(png), w=min(170.0, pdf.epw))
        if t.rows:
            first = 60 if len(t.columns) > 4 else 90
            rest = (pdf.epw - first) / max(len(t.columns) - 1, 1)
            pdf.set_font("DejaVu", "", 7 if len(t.columns) > 6 else 9)
            with pdf.table(
                col_widths=(first, *([rest] * (len(t.columns) - 1))),
                text_align=("LEFT", *(["RIGHT"] * (len(t.columns) - 1))),
                line_height=4.5,
            ) as table:
                table.row(t.columns)
                for label, values in t.rows:
                    table.row([label, *(_display(v) for v in values)])
    if report.paste:
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 6, kb.text("report_paste_title", "nl"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 5, " ".join(report.paste), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_report(report: Report, out: Path, kb: KnowledgeBase) -> list[Path]:
    """report.html, report.pdf and report.csv in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    charts = {t.key: png for t in report.tables if (png := _chart_png(t, kb)) is not None}
    paths = [out / "report.html", out / "report.pdf", out / "report.csv"]
    write_html(report, paths[0], kb, charts)
    write_pdf(report, paths[1], kb, charts)
    write_csv(report, paths[2])
    return paths


def format_text(report: Report) -> list[str]:
    """A plain listing for the terminal (weak spots)."""
    lines = [report.title, "", report.rule]
    for t in report.tables:
        lines += ["", t.title]
        if t.note:
            lines.append(t.note)
        if t.rows:
            lines.append("  " + " | ".join(t.columns))
            for label, values in t.rows:
                lines.append("  " + " | ".join([label, *(_display(v) for v in values)]))
    return lines


def report_command(
    kb: KnowledgeBase,
    env: Mapping[str, str],
    *,
    year: int,
    org: str | None,
    out: Path | None,
    as_json: bool,
    weak: bool,
) -> int:
    """`wegwijzer report`: checks the arguments, reads the store, writes or prints."""
    import json
    import sys

    from bot._config import default_data_dir
    from bot._report import figures, weak_spots
    from bot._stats import ID_RE
    from bot._stats_store import SQLITE_FILE, StatsStoreError, open_store

    known = [o.id for o in kb.organisations]
    if org is not None and (not ID_RE.match(org) or org not in [*known, "unknown"]):
        print(
            f"unknown organisation '{org}' (known: {', '.join([*known, 'unknown'])})",
            file=sys.stderr,
        )
        return 2
    if not 2000 <= year <= 9999:
        print("--year must be a year such as 2026", file=sys.stderr)
        return 2
    if out is None and not as_json and not weak:
        print("give --out DIR (report.html, report.pdf, report.csv) or --json", file=sys.stderr)
        return 2
    dsn = env.get("WEGWIJZER_STATS_DSN", "").strip() or None
    data_dir = default_data_dir(env)
    if dsn is None and not (data_dir / SQLITE_FILE).is_file():
        print(
            f"no use figures in {data_dir / SQLITE_FILE} yet: set WEGWIJZER_DATA_DIR (or "
            "WEGWIJZER_STATS_DSN) as for 'wegwijzer run'",
            file=sys.stderr,
        )
        return 1
    try:
        store = open_store(dsn=dsn, data_dir=data_dir)
        rows = store.rows(year)
        crisis = store.crisis_weeks(year)
    except StatsStoreError as exc:
        print(f"cannot read the use figures: {exc}", file=sys.stderr)
        return 2
    report = weak_spots(kb, rows, year, org) if weak else figures(kb, rows, crisis, year, org)
    if out is not None and not weak:
        for path in write_report(report, out, kb):
            print(path, file=sys.stderr if as_json else sys.stdout)
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    elif weak:
        print("\n".join(format_text(report)))
    return 0
