"""Loading and validating the knowledge base: clear errors with file and line."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import KnowledgeBaseError, load_knowledge_base
from bot._kbtools import stats

WEGWIJZER = [sys.executable, "-m", "bot.cli"]


def errors_of(root: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(root)
    return [str(p) for p in info.value.problems if p.severity == "error"]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bundled_knowledge_base_loads() -> None:
    kb = load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge")
    assert kb.entries and kb.themes and kb.organisations
    assert all(e.sources for e in kb.entries)


def test_test_kb_loads_with_warnings(test_kb_dir: Path) -> None:
    kb = load_knowledge_base(test_kb_dir, today=dt.date(2026, 11, 23))
    warnings = [str(w) for w in kb.warnings]
    assert any("no 'en' translation" in w and "test.yaml" in w for w in warnings)
    assert any("not reviewed in the last 12 months" in w for w in warnings)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "related: [klacht]",
            "related: [bestaat-niet]",
            "related 'bestaat-niet', which does not exist",
        ),
        ("routes: [vpoo, bmw]", "routes: [vpoo, hr]", "unknown role 'hr'"),
        ("id: klacht\n", "id: pesten\n", "id 'pesten' is already used"),
        ("theme: integriteit", "theme: onbekend", "theme 'onbekend' is not in themes.yaml"),
        (
            "reviewed: 2026-11-01\n    owner: Tests\n    sources:\n      - {title: Klachten",
            "reviewed: 2099-01-01\n    owner: Tests\n    sources:\n      - {title: Klachten",
            "in the future",
        ),
        (
            'url: "https://wetten.overheid.nl/BWBR0037852"',
            "url: wetten.nl",
            "must start with https://",
        ),
        ("hoe dien ik een klacht in,", "ik word gepest,", "also in entry 'pesten'"),
        (
            "audience: [employee]\n    routes: [vpi",
            "audience: [iedereen]\n    routes: [vpi",
            "audience 'iedereen'",
        ),
    ],
)
def test_entry_errors_name_file_and_line(
    test_kb_dir: Path, old: str, new: str, expected: str
) -> None:
    edit(test_kb_dir, "entries/test.yaml", old, new)
    errors = errors_of(test_kb_dir)
    match = [e for e in errors if expected in e]
    assert match, errors
    assert all("entries/test.yaml:" in e for e in match)
    assert all(int(e.split(":")[1]) > 0 for e in match)


def test_too_few_questions(test_kb_dir: Path) -> None:
    edit(
        test_kb_dir,
        "entries/test.yaml",
        "questions: [hoe meld ik me ziek, ik ben ziek, ",
        "questions: [",
    )
    assert any("give at least 5" in e for e in errors_of(test_kb_dir))


def test_missing_text_and_bad_placeholder(test_kb_dir: Path) -> None:
    edit(test_kb_dir, "texts.yaml", "  lang_set:\n", "  lang_sett:\n")
    edit(test_kb_dir, "texts.yaml", "tekens gelezen.", "tekens {gelezen.")
    errors = errors_of(test_kb_dir)
    assert any("the text 'lang_set' is missing" in e for e in errors)
    assert any("broken {placeholder}" in e and "texts.yaml:" in e for e in errors)


def test_broken_yaml_names_line(test_kb_dir: Path) -> None:
    path = test_kb_dir / "organisations" / "voorbeeld.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - name: [unclosed\n", encoding="utf-8")
    errors = errors_of(test_kb_dir)
    assert any("organisations/voorbeeld.yaml:" in e for e in errors)


def test_contact_without_way_to_reach(test_kb_dir: Path) -> None:
    edit(test_kb_dir, "contacts.yaml", '    phone: "112"\n', "")
    assert any("no way to reach it" in e for e in errors_of(test_kb_dir))


def test_validate_cli_exit_codes(test_kb_dir: Path) -> None:
    ok = subprocess.run(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), "kb", "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout
    assert "warning" in ok.stdout and "OK:" in ok.stdout
    edit(test_kb_dir, "entries/test.yaml", "related: [klacht]", "related: [weg]")
    bad = subprocess.run(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), "kb", "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "entries/test.yaml:" in bad.stdout and "'weg'" in bad.stdout


def test_stats(test_kb_dir: Path) -> None:
    kb = load_knowledge_base(test_kb_dir, today=dt.date(2026, 11, 23))
    figures = stats(kb, today=dt.date(2026, 11, 23))
    assert figures["entries"] == 5
    assert figures["by_language"] == {"nl": 5, "en": 4}
    assert figures["with_sources"] == 5
    assert figures["reviewed_within_year"] == 4
    assert figures["by_audience"] == {"employee": 5}
    assert figures["by_route"]["vpoo"] == 2
    assert figures["readability"]["nl"]["mean_sentence_words"] > 0
    out = subprocess.run(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), "kb", "stats", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    for key in (
        "entries",
        "elsewhere_topics",
        "by_language",
        "with_sources",
        "reviewed_within_year",
        "by_audience",
        "by_route",
    ):
        assert key in data


def insert_under(path: Path, block: str, line: str) -> int:
    """Insert `line` as the first item of `block`'s nl part; its index (line number - 1)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index(f"{block}:") + 2
    lines.insert(at, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return at


def test_bad_together_rule_names_file_and_line(test_kb_dir: Path) -> None:
    at = insert_under(test_kb_dir / "crisis.yaml", "together", "    - pillen|tabletten")
    errors = errors_of(test_kb_dir)
    assert any(f"crisis.yaml:{at + 1}:" in e and "two or more word groups" in e for e in errors)


def test_unknown_work_scope_list_names_file_and_line(test_kb_dir: Path) -> None:
    at = insert_under(test_kb_dir / "crisis.yaml", "work_scope", "    objekts: [project]")
    errors = errors_of(test_kb_dir)
    assert any(f"crisis.yaml:{at + 1}:" in e and "'objekts' is not one of" in e for e in errors)


def test_work_scope_is_loaded_per_language() -> None:
    kb = load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge")
    assert "project" in kb.crisis_scope["nl"]["objects"]
    assert "with" in kb.crisis_scope["en"]["binders"]


def test_file_with_several_blocks_is_reported_once(test_kb_dir: Path) -> None:
    """crisis.yaml holds three blocks; a broken file is one problem, not three."""
    path = test_kb_dir / "crisis.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - [unclosed\n", encoding="utf-8")
    errors = [e for e in errors_of(test_kb_dir) if "crisis.yaml" in e]
    assert len(errors) == 1, errors


def test_elsewhere_topics_load_beside_the_entries(test_kb_dir: Path) -> None:
    kb = load_knowledge_base(test_kb_dir)
    assert kb.elsewhere and all(t.outside and not t.routes for t in kb.elsewhere)
    assert not {t.id for t in kb.elsewhere} & {e.id for e in kb.entries}
    assert all(not e.outside for e in kb.entries)


def test_elsewhere_errors_name_file_and_line(test_kb_dir: Path) -> None:
    # A question an entry already has, and an id an entry already uses.
    edit(
        test_kb_dir,
        "elsewhere.yaml",
        "        - Hoe doe ik aangifte inkomstenbelasting?\n",
        "        - Hoe doe ik aangifte inkomstenbelasting?\n        - hoe meld ik me ziek\n",
    )
    edit(test_kb_dir, "elsewhere.yaml", "id: elders-ict", "id: Elders ICT")
    errors = errors_of(test_kb_dir)
    assert any("'hoe meld ik me ziek' is also in" in e and "elsewhere.yaml:" in e for e in errors)
    assert any("id 'Elders ICT'" in e and "elsewhere.yaml:" in e for e in errors)


def test_aspects_belong_to_outside_topics_only(test_kb_dir: Path) -> None:
    edit(
        test_kb_dir,
        "entries/test.yaml",
        "      keywords: [pesten, gepest, pestgedrag]",
        "      aspects: [belasting over]\n      keywords: [pesten, gepest, pestgedrag]",
    )
    errors = errors_of(test_kb_dir)
    assert any(
        "test.yaml:" in e and "'aspects' belongs to topics in elsewhere.yaml" in e for e in errors
    ), errors


def test_knowledge_base_without_elsewhere_file_loads(test_kb_dir: Path) -> None:
    (test_kb_dir / "elsewhere.yaml").unlink()
    assert load_knowledge_base(test_kb_dir).elsewhere == ()
