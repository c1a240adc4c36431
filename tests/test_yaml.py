"""The strict YAML reader: traps refused or kept as text, every error with file and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot._yaml import (
    MAX_FILE_BYTES,
    LineDict,
    LineList,
    YamlProblem,
    _fast_eligible,
    _load_fast,
    _StrictLoader,
    load_yaml_file,
    load_yaml_text,
)

P = Path("knowledge/x.yaml")


def problem(text: str) -> YamlProblem:
    with pytest.raises(YamlProblem) as info:
        load_yaml_text(text, P)
    return info.value


def test_yaml_11_words_stay_text() -> None:
    data = load_yaml_text("a: nee\nb: no\nc: off\nd: yes\ne: on\nf: 12:30\ng: 0800\nh: true\n", P)
    assert data == {
        "a": "nee",
        "b": "no",
        "c": "off",
        "d": "yes",
        "e": "on",
        "f": "12:30",
        "g": "0800",
        "h": True,
    }


def test_dates_and_numbers() -> None:
    data = load_yaml_text("reviewed: 2026-11-20\nn: 12\nphone: 070 123\n", P)
    assert data == {"reviewed": dt.date(2026, 11, 20), "n": 12, "phone": "070 123"}


def test_impossible_date_names_line() -> None:
    p = problem("a: 1\nreviewed: 2026-02-30\n")
    assert p.line == 2 and "date" in p.message


@pytest.mark.parametrize(
    ("text", "line", "word"),
    [
        ("a: &x [1]\nb: *x\n", 1, "anchors"),
        ("a: 1\nb: *x\n", 2, "aliases"),
        ("a: !!python/object:os.system x\n", 1, "tags"),
        ("a: 1\nb: 2\na: 3\n", 3, "twice"),
        ("a:\n\tb: 1\n", 2, "tab"),
        ("a: [1, 2\nb: 3\n", 0, ""),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", 1, "anchors"),
    ],
)
def test_refused_constructs_name_the_line(text: str, line: int, word: str) -> None:
    p = problem(text)
    if line:
        assert p.line == line
    assert word in p.message
    assert str(P) in str(p)


def test_alias_bomb_is_refused_fast() -> None:
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: &d [*c,*c]\n'
    assert "anchors" in problem(bomb).message


def test_file_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(YamlProblem, match="limit"):
        load_yaml_file(big)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(YamlProblem) as info:
        load_yaml_file(latin)
    assert info.value.line == 2 and "UTF-8" in info.value.message
    with pytest.raises(YamlProblem, match="cannot read"):
        load_yaml_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,  # libyaml's C composer would overflow the stack on this
        "a: " + "[" * 5_000 + "]" * 5_000 + "\n",
        "a:\n" + "".join(" " * i + "-\n" for i in range(1, 1_500)),
        "- " * 3_000 + "x\n",
    ],
)
def test_deep_nesting_is_refused_not_a_crash(text: str) -> None:
    p = problem(text)
    assert "nested too deeply" in p.message or p.line > 0


def _shape(value: object) -> object:
    """Value plus every remembered line, to compare two readings exactly."""
    if isinstance(value, LineDict):
        items = tuple((k, value.line_of(k), _shape(v)) for k, v in value.items())
        return ("map", value.line, items)
    if isinstance(value, LineList):
        return ("list", value.line, tuple(value.item_lines), tuple(_shape(v) for v in value))
    return (type(value).__name__, value)


@pytest.mark.parametrize(
    "path", sorted(Path("knowledge").rglob("*.yaml")), ids=lambda p: str(p.name)
)
def test_fast_reader_equals_strict_reader(path: Path) -> None:
    """libyaml composes the bundled files; the result must be what the strict reader
    builds, lines included, or a refusal there would differ from one here."""
    text = path.read_text(encoding="utf-8")
    assert _fast_eligible(text)
    strict = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    assert _shape(_load_fast(text)) == _shape(strict)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("a: x\nb: [1, 2]\nc: {d: 1, d: 2}\n", "twice"),
        ("note: see *this*\nx: &y 1\n", "anchors"),
        ("a: Q&A is fine\nb: wow! also fine\n", ""),
        ("a:\n  - 1\n  - ~: 2\n", ""),
    ],
)
def test_fast_and_strict_agree_on_edge_cases(text: str, word: str) -> None:
    if word:
        assert word in problem(text).message
    else:
        assert load_yaml_text(text, P) == yaml.load(text, Loader=_StrictLoader)  # noqa: S506


def test_without_libyaml_the_python_reader_does_the_same() -> None:
    """PyYAML built without libyaml: the pure-Python parser reads and refuses alike."""
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['yaml._yaml'] = None\n"
        "from pathlib import Path\n"
        "import bot._yaml as y\n"
        "assert y._CParser is None\n"
        "from bot import load_knowledge_base\n"
        "print(len(load_knowledge_base(Path('knowledge')).entries))\n"
        "try:\n"
        "    y.load_yaml_text('a: &x 1\\nb: *x\\n', Path('t.yaml'))\n"
        "except y.YamlProblem as e:\n"
        "    print(e.line, e.message)\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True
    )
    count, refusal = out.stdout.splitlines()
    assert int(count) > 0
    assert refusal.startswith("1 anchors (&name) are not allowed")
