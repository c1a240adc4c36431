"""The yearly report: small numbers hidden, no total to subtract from, four same renderings."""

from __future__ import annotations

import csv
import datetime as _dt
import html
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot import Engine
from bot._report import SMALL, figures, weak_spots
from bot._report_render import write_report
from bot._stats import CountKey
from bot._stats_store import CountRow, open_store

WEGWIJZER = [sys.executable, "-m", "bot.cli"]
LATE = _dt.date(2027, 2, 1)  # the whole of 2026 is over


def row(
    week: str, event: str, n: int, entry: str = "", theme: str = "", org: str = "unknown"
) -> CountRow:
    return CountRow(week, org, "teams", theme, entry, event, n)


def random_rows(rng: random.Random, engine: Engine, scale: int) -> list[CountRow]:
    out: Counter[CountKey] = Counter()
    entries = engine.kb.entries
    for w in range(1, 53):
        week = f"2026-W{w:02d}"
        for _ in range(rng.randint(0, scale)):
            e = rng.choice(entries)
            org = rng.choice(["voorbeeld", "unknown"])
            event = rng.choice(["answered", "answered", "clarify", "helped", "not_helped"])
            out[
                CountKey(week, org, "teams", e.theme, e.id if event != "clarify" else "", event)
            ] += 1
        out[CountKey(week, "unknown", "teams", "", "", "unknown")] += rng.randint(0, scale // 3 + 1)
    return [
        CountRow(k.week, k.organisation, k.channel, k.theme, k.entry, k.event, n)
        for k, n in out.items()
    ]


def test_small_numbers_are_hidden_and_totals_withheld(engine: Engine) -> None:
    rows = [
        row("2026-W02", "answered", 40, "pesten", "ongewenst-gedrag"),
        row("2026-W15", "answered", 3, "pesten", "ongewenst-gedrag"),
        row("2026-W28", "answered", 25, "pesten", "ongewenst-gedrag"),
        row("2026-W41", "answered", 30, "pesten", "ongewenst-gedrag"),
    ]
    report = figures(engine.kb, rows, {}, 2026, today=LATE)
    assert report.period == "quarter"  # most month cells would be small
    q = {label: values for label, values in report.tables[0].rows}
    assert q["Ongewenst gedrag (pesten, intimidatie, discriminatie, agressie)"] == [
        40,
        "< 10",
        25,
        30,
        "niet gegeven",  # 98 would give away the 3
    ]
    assert q["Totaal"][-1] == "niet gegeven"
    assert "< 10" in report.rule and "totaal" in report.rule.lower()
    # The text to paste uses only what the tables publish.
    paste = " ".join(report.paste)
    assert "98" not in paste and "3 " not in paste


def test_months_when_numbers_are_large(engine: Engine) -> None:
    rows = [
        row(f"2026-W{w:02d}", "answered", 20, "pesten", "ongewenst-gedrag") for w in range(1, 53)
    ]
    report = figures(engine.kb, rows, {}, 2026, today=LATE)
    assert report.period == "month"
    assert len(report.tables[0].columns) == 1 + 12 + 1


@pytest.mark.parametrize("seed", range(12))
def test_no_published_total_hides_a_part(engine: Engine, seed: int) -> None:
    """Every published total is the sum of published numbers, so it reveals nothing."""
    rng = random.Random(seed)
    rows = random_rows(rng, engine, scale=rng.choice([3, 10, 40]))
    crisis = {f"2026-W{w:02d}": 1 for w in range(1, 53) if rng.random() < 0.3}
    report = figures(engine.kb, rows, crisis, 2026, today=LATE)
    table = report.tables[0]
    body = table.rows[:-1]
    for _, values in body:
        *cells, total = values
        if isinstance(total, int):
            assert all(isinstance(c, int) for c in cells) and sum(cells) == total  # type: ignore[arg-type]
    *column_totals, grand = table.rows[-1][1]
    for i, total in enumerate(column_totals):
        if isinstance(total, int):
            column = [values[i] for _, values in body]
            assert all(isinstance(c, int) for c in column) and sum(column) == total  # type: ignore[arg-type]
    if isinstance(grand, int):
        assert all(isinstance(c, int) for _, v in body for c in v)
    for t in report.tables:
        for _, values in t.rows:
            for cell in values:
                assert (
                    isinstance(cell, str) or cell >= SMALL or t.key in ("answered", "helpfulness")
                )
                assert cell in ("< 10", "niet gegeven") or isinstance(cell, int)
    for _, (n,) in report.tables[2].rows:
        assert isinstance(n, int) and n >= SMALL


def test_weak_spots(engine: Engine) -> None:
    rows = [
        row("2026-W02", "not_helped", 12, "pesten", "ongewenst-gedrag"),
        row("2026-W02", "helped", 4, "pesten", "ongewenst-gedrag"),
        row("2026-W02", "not_helped", 6, "verlof", "rechtspositie"),
        row("2026-W03", "unknown", 15),
        row("2026-W03", "clarify", 11, theme="integriteit"),
        row("2026-W03", "answered", 30, "misstand", "integriteit"),
    ]
    report = weak_spots(engine.kb, rows, 2026)
    entries, themes = report.tables
    assert entries.rows == [("Pesten op het werk", [12, "< 10", "niet gegeven"])]
    assert dict(themes.rows) == {
        "Onderwerp niet herkend": [15],
        "Integriteit en misstanden melden": [11],
    }


def test_files_and_json_agree(engine: Engine, tmp_path: Path) -> None:
    rows = random_rows(random.Random(3), engine, scale=30)
    report = figures(engine.kb, rows, {"2026-W05": 2}, 2026, today=LATE)
    paths = write_report(report, tmp_path / "out", engine.kb)
    assert [p.name for p in paths] == ["report.html", "report.pdf", "report.csv"]
    assert paths[1].read_bytes().startswith(b"%PDF")
    page = paths[0].read_text()
    assert page.count("<img") >= 3 and 'alt="Grafiek' in page and "<table>" in page
    assert html.escape(report.rule) in page
    published = report.as_json()["tables"]
    with paths[2].open() as f:
        lines = list(csv.DictReader(f))
    for line in lines:
        table = published[line["table"]]
        values = next(r["values"] for r in table["rows"] if r["label"] == line["row"])
        assert str(values[table["columns"].index(line["column"]) - 1]) == line["value"]
    assert len(lines) == sum(len(r["values"]) for t in published.values() for r in t["rows"])


def test_cli(engine: Engine, test_kb_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(dsn=None, data_dir=data)
    keys = Counter(
        {CountKey("2026-W10", "voorbeeld", "teams", "integriteit", "misstand", "answered"): 25}
    )
    store.add(keys, {"2026-W10": 1})
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEGWIJZER_")}
    env["WEGWIJZER_DATA_DIR"] = str(data)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*WEGWIJZER, "--knowledge", str(test_kb_dir), "report", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    out = run("--year", "2026", "--org", "voorbeeld", "--json")
    assert out.returncode == 0, out.stderr
    figures_json = json.loads(out.stdout)
    assert figures_json["organisation"] == "voorbeeld"
    entries = figures_json["tables"]["entries"]["rows"]
    assert [e["values"] for e in entries] == [[25]]
    out = run("--year", "2026", "--out", str(tmp_path / "r"))
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "report.csv",
        "report.html",
        "report.pdf",
    ]
    weak = run("--year", "2026", "--weak-spots")
    assert weak.returncode == 0 and "Zwakke plekken in 2026" in weak.stdout
    bad = run("--year", "2026", "--org", "no such org", "--json")
    assert (
        bad.returncode == 2
        and "unknown organisation" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    assert run("--year", "2026").returncode == 2  # neither --out nor --json
    env["WEGWIJZER_DATA_DIR"] = str(tmp_path / "empty")
    none = run("--year", "2026", "--json")
    assert none.returncode == 1 and "no use figures" in none.stderr
    assert not (tmp_path / "empty").exists()


def test_one_organisation(engine: Engine) -> None:
    rows = [
        row("2026-W02", "answered", 40, "pesten", "ongewenst-gedrag", org="voorbeeld"),
        row("2026-W02", "answered", 70, "misstand", "integriteit", org="unknown"),
    ]
    report = figures(engine.kb, rows, {"2026-W02": 1}, 2026, organisation="voorbeeld", today=LATE)
    assert "Voorbeeld" in report.title or "voorbeeld" in report.title.lower()
    assert [values for _, values in report.tables[2].rows] == [[40]]
    assert report.as_json()["organisation"] == "voorbeeld"
