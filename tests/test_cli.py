"""The `wegwijzer` command as a person or a script uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WEGWIJZER = [sys.executable, "-m", "bot.cli"]
FIELDS = {"matched", "entry", "confidence", "routes", "crisis", "lang", "reply", "suggestions"}


def run(kb: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WEGWIJZER, "--knowledge", str(kb), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ask_json_one_question(test_kb_dir: Path) -> None:
    out = run(test_kb_dir, "ask", "--json", "ik word gepest")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == FIELDS
    assert data["matched"] is True and data["entry"] == "pesten"
    assert data["routes"][0] == "vpoo" and data["crisis"] is False and data["lang"] == "nl"
    assert 0 < data["confidence"] <= 1
    assert data["suggestions"] == [
        {"entry": "klacht", "title": "Een klacht indienen over ongewenst gedrag"}
    ]
    assert "Vertrouwenspersoon" in data["reply"]


def test_ask_json_batch_keeps_order_and_lines(test_kb_dir: Path) -> None:
    questions = [
        "ik word gepest",
        "qwerty",
        "ik wil niet meer leven",
        "",
        "how do i file a complaint",
    ]
    out = run(test_kb_dir, "ask", "--json", stdin="\n".join(questions) + "\n")
    lines = out.stdout.splitlines()
    assert len(lines) == len(questions)
    rows = [json.loads(line) for line in lines]
    assert rows[0]["entry"] == "pesten"
    assert rows[1]["matched"] is False and rows[1]["entry"] is None
    assert (
        rows[2]["crisis"] is True and "emergency" in rows[2]["routes"] and "113" in rows[2]["reply"]
    )
    assert rows[3]["matched"] is False
    assert rows[4]["entry"] == "klacht" and rows[4]["lang"] == "en"


def test_ask_json_flushes_each_answer(test_kb_dir: Path) -> None:
    proc = subprocess.Popen(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), "ask", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("ik word gepest\n")
    proc.stdin.flush()
    first = proc.stdout.readline()  # would block forever without a flush per answer
    assert json.loads(first)["entry"] == "pesten"
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    proc.stdout.close()


def test_ask_lang_option(test_kb_dir: Path) -> None:
    data = json.loads(run(test_kb_dir, "ask", "--json", "--lang", "en", "ik word gepest").stdout)
    assert data["lang"] == "en" and "Bullying at work" in data["reply"]


def test_chat_with_piped_input(test_kb_dir: Path) -> None:
    out = run(test_kb_dir, "chat", stdin="menu\n1\nik word gepest\nvergeet\n")
    assert out.returncode == 0, out.stderr
    assert "Ongewenst gedrag" in out.stdout
    assert "Pesten op het werk" in out.stdout
    assert "gewist" in out.stdout
    assert "\033[" not in out.stdout  # no terminal styling in a pipe


def test_chat_survives_binary_input(test_kb_dir: Path) -> None:
    raw = b"\xff\xfe\x00\x01garbage\n\xc3\x28\n" + b"x" * 2_000_000 + b"\nik word gepest\n"
    out = subprocess.run(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), "chat"],
        input=raw,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-500:]
    assert b"Pesten op het werk" in out.stdout
    assert b"Traceback" not in out.stderr


def test_broken_knowledge_base_is_refused_clearly(test_kb_dir: Path) -> None:
    (test_kb_dir / "entries" / "test.yaml").write_text(
        "entries:\n  - id: x\n    nl: [\n", encoding="utf-8"
    )
    out = run(test_kb_dir, "ask", "--json", "hoi")
    assert out.returncode == 2
    assert "entries/test.yaml:" in out.stderr and "refused" in out.stderr
    assert "Traceback" not in out.stderr


def test_kb_test_reports_misses_and_scores_a_question_file(
    test_kb_dir: Path, tmp_path: Path
) -> None:
    qfile = tmp_path / "q.yaml"
    qfile.write_text(
        '- {q: "ik word gepest", route: [vpoo], expect_any: [pest]}\n'
        '- {q: "schrijf een gedicht", route: [], oos: true}\n'
        '- {q: "ik wil dood", route: [emergency], expect_any: ["113"], crisis: true}\n'
        '- {q: "wat is een misstand", route: [p_raadgever], expect_any: [x]}\n',
        encoding="utf-8",
    )
    out = run(test_kb_dir, "kb", "test", str(qfile))
    assert "own phrasings:" in out.stdout
    assert "in_scope: 50.0% (1/2)" in out.stdout
    assert "out_of_scope: 100.0% (1/1)" in out.stdout and "crisis: 100.0% (1/1)" in out.stdout
    assert "FAIL [in_scope] 'wat is een misstand'" in out.stdout


REAL_STYLE = (
    '- {q: "ik word gepest", lang: nl, route: [vpoo], expect_any: [pest], entry: [pesten]}\n'
    '- {q: "wat is een misstand", route: [vpi], expect_any: [misstand], entry: [klacht]}\n'
    '- {q: "een klacht over een misstand", lang: nl, route: [vpoo], expect_any: [klacht],'
    " entry: [klacht]}\n"
    '- {q: "pesten verlof", lang: nl, route: [vpoo, p_raadgever], expect_any: [pest],'
    " entry: [pesten]}\n"
    '- {q: "qwerty asdf zxcv", lang: en, route: [p_raadgever], expect_any: [x], entry: []}\n'
    '- {q: "schrijf een gedicht", lang: nl, url: "https://example.org", oos: true}\n'
    '- {q: "ik wil dood", route: [emergency], expect_any: ["113"], crisis: true, modelled: true}\n'
)


def test_kb_test_reports_outcomes_precision_and_confusions(
    test_kb_dir: Path, tmp_path: Path
) -> None:
    qfile = tmp_path / "real.yaml"
    qfile.write_text(REAL_STYLE, encoding="utf-8")
    out = run(test_kb_dir, "kb", "test", str(qfile))
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    # Strict: only outright right answers count; a fitting "did you mean" is lenient only.
    assert (
        "in scope, strict (answered outright and right): 40.0% (2/5); lenient: 60.0% (3/5)" in text
    )
    assert (
        "in scope outcomes: answered right 2, answered WRONG 1, did you mean 1, don't know 1"
        in text
    )
    assert "precision of outright answers: 66.7% (2/3)" in text
    # By entry the misstand answer is wrong too: the item says klacht answers it.
    assert "judged by entry (4 items name their entry): right 1, wrong 2" in text
    assert "in scope, no entry in the knowledge base yet: 1" in text
    assert "in scope, strict, en: 0.0% (0/1)" in text
    assert "crisis found: 1/1; false alarms: 0" in text
    assert "confusion: klacht -> misstand (2x)" in text
    assert "out_of_scope: 100.0% (1/1)" in text


def test_kb_test_json_has_the_same_figures(test_kb_dir: Path, tmp_path: Path) -> None:
    qfile = tmp_path / "real.yaml"
    qfile.write_text(REAL_STYLE, encoding="utf-8")
    out = run(test_kb_dir, "kb", "test", "--json", str(qfile))
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)
    figures = data["questions"]
    assert figures["in_scope_strict"] == {"right": 2, "total": 5}
    assert figures["outcomes"] == {
        "answered right": 2,
        "answered WRONG": 1,
        "did you mean": 1,
        "don't know": 1,
    }
    assert figures["precision"] == 2 / 3
    assert figures["by_entry"]["wrong"] == 2 and figures["entry_precision"] == 1 / 3
    assert figures["crisis_found"] == {"right": 1, "total": 1} and figures["false_alarms"] == 0
    assert figures["out_of_scope_honest"] == {"right": 1, "total": 1}
    assert figures["confusions"] == [{"expected": "klacht", "answered": "misstand", "count": 2}]
    assert data["own_phrasings"]["found"] == data["own_phrasings"]["total"]


def test_run_without_platform_starts_console(test_kb_dir: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEGWIJZER_")}
    out = subprocess.run(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), "run"],
        input="ik word gepest\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "Pesten op het werk" in out.stdout
    assert "console" in out.stderr  # the log line says which channel started


def without_crisis_model(kb: Path) -> Path:
    """Take the copied model and examples out of a test folder; returns the examples dir."""
    import shutil

    (kb / "crisis_model.json").unlink()
    for folder in ("crisis_examples", "tests"):
        shutil.rmtree(kb / folder)
    (kb / "crisis_examples").mkdir()
    return kb / "crisis_examples"


def test_kb_train_crisis_writes_a_model_and_validate_tracks_it(test_kb_dir: Path) -> None:
    examples = without_crisis_model(test_kb_dir)
    out = run(test_kb_dir, "kb", "validate")
    assert "no crisis model" in out.stdout  # a folder without one is told how to make it
    (examples / "mine.yaml").write_text(
        'crisis:\n  - "ik wil er niet meer zijn"\n  - "he has a knife right now"\n'
        'not_crisis:\n  - "mag ik een mes meenemen naar de kantine"\n  - "ik word gepest"\n',
        encoding="utf-8",
    )
    out = run(test_kb_dir, "kb", "train-crisis")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "learned from 2 crisis and 2 other examples" in out.stdout
    first = (test_kb_dir / "crisis_model.json").read_text(encoding="utf-8")
    assert "crisis model" not in run(test_kb_dir, "kb", "validate").stdout
    # The same examples give the same file.
    assert run(test_kb_dir, "kb", "train-crisis").returncode == 0
    assert (test_kb_dir / "crisis_model.json").read_text(encoding="utf-8") == first
    # Changed examples: validate says the model is out of date.
    with (examples / "mine.yaml").open("a", encoding="utf-8") as f:
        f.write('  - "waar vind ik de cao"\n')
    assert "examples changed" in run(test_kb_dir, "kb", "validate").stdout


def test_kb_train_crisis_names_the_broken_example_file(test_kb_dir: Path) -> None:
    examples = without_crisis_model(test_kb_dir)
    (examples / "bad.yaml").write_text('crisis:\n  - "a"\n  - [\n', encoding="utf-8")
    out = run(test_kb_dir, "kb", "train-crisis")
    assert out.returncode == 1
    assert "bad.yaml:" in out.stdout and "Traceback" not in out.stderr


def test_broken_crisis_model_is_refused_with_file_and_line(test_kb_dir: Path) -> None:
    (test_kb_dir / "crisis_model.json").write_text('{"weights": {\n  "a": }', encoding="utf-8")
    out = run(test_kb_dir, "kb", "validate")
    assert out.returncode == 1
    assert "crisis_model.json:2:" in out.stdout and "train-crisis" in out.stdout
