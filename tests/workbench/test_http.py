"""The workbench over HTTP (served for real), and the word-level explanation."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot import Engine, default_knowledge_dir, load_knowledge_base
from tests.workbench.conftest import Server, copy_knowledge, serve_in_thread
from workbench import is_loopback
from workbench._explain import hits_for, words_of
from workbench._views import WORDING

Response = tuple[int, str, dict[str, str]]


def _get(url: str, data: dict[str, str] | None = None, host: str = "") -> Response:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body)  # noqa: S310 (the test server's own http URL)
    if host:
        req.add_header("Host", host)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def test_overview_has_counts_reviews_and_headers(server: Server) -> None:
    status, page, headers = _get(server.url + "/")
    assert status == 200
    for part in ("Entries per theme", "Entries per language", "Entries per audience"):
        assert part in page
    assert "Due for review" in page and "Never reviewed" in page
    assert "Dangling references" in page
    assert "knowledge/entries/ongewenst-gedrag.yaml:" in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_other_host_names_are_refused(server: Server) -> None:
    status, page, _ = _get(server.url + "/", host="rebind.example:8090")
    assert status == 421
    assert "own address" in page


def test_entry_page_has_every_channel(server: Server) -> None:
    status, page, _ = _get(server.url + "/entry/pesten-op-het-werk?lang=en&details=1")
    assert status == 200
    for channel in ("Console (text)", "Matrix (HTML)", "Teams (Adaptive Card)", "Web chat"):
        assert channel in page
    assert '"type": "AdaptiveCard"' in page
    status, page, _ = _get(server.url + "/entry/no-such-entry")
    assert status == 200 and "There is no entry" in page


def test_try_is_a_post_and_explains(server: Server) -> None:
    status, page, _ = _get(server.url + "/try", {"q": "ik word gepest door mijn baas"})
    assert status == 200
    assert "Answer: the best entry is shown outright" in page
    assert "pesten-op-het-werk" in page
    assert "synonym" in page
    # Junk never crashes it.
    status, page, _ = _get(server.url + "/try", {"q": "\x00" * 50 + "é" * 9000, "lang": "xx"})
    assert status == 200


def test_try_marks_a_topic_outside_wegwijzer(server: Server) -> None:
    status, page, _ = _get(server.url + "/try", {"q": "hoe doe ik aangifte inkomstenbelasting"})
    assert status == 200
    assert "elders-belasting" in page and "elsewhere.yaml" in page
    assert 'href="/entry/elders-belasting' not in page  # no entry page to link to


def test_try_says_what_the_sentence_model_did(server: Server, engine: Engine) -> None:
    """One question the model confirms (found among the real tune questions, not named
    here) and one it is never asked about."""
    assert engine.decider.check is not None
    real = default_knowledge_dir() / "tests" / "real" / "tune.yaml"
    confirmed = ""
    for item in yaml.safe_load(real.read_text(encoding="utf-8")):
        a = engine.reader.read(str(item["q"]))
        decision, _ = engine.decider.decide_message(a, engine.reader, a.lang)
        if decision.confirmed and decision.outcome == "answer":
            confirmed = str(item["q"])
            break
    assert confirmed
    page = _get(server.url + "/try", {"q": confirmed})[1]
    assert "confirmed the best entry" in page
    page = _get(server.url + "/try", {"q": "ik word gepest door mijn baas"})[1]
    assert "not asked" in page


def test_question_set_scores_and_refuses_other_paths(server: Server) -> None:
    status, page, _ = _get(server.url + "/sets?file=vragen.yaml")
    assert status == 200
    assert "In-scope outcomes" in page and "Entries never hit" in page
    status, page, _ = _get(server.url + "/sets?file=../texts.yaml")
    assert status == 200 and "Unknown question file" in page


def test_unknown_static_is_404(server: Server) -> None:
    assert _get(server.url + "/static/../wording.yaml")[0] == 404
    assert _get(server.url + "/static/nothing.js")[0] == 404


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[Server]:
    root = copy_knowledge(tmp_path)
    (root / "themes.yaml").write_text("themes: [\n", encoding="utf-8")
    yield from serve_in_thread(root)


def test_broken_from_the_start_shows_errors(broken: Server) -> None:
    status, page, _ = _get(broken.url + "/")
    assert status == 200
    assert "no earlier good state" in page
    assert "themes.yaml:" in page
    for path in ("/try", "/sets?file=vragen.yaml", "/entry/pesten-op-het-werk"):
        assert _get(broken.url + path)[0] == 200
    assert _get(broken.url + "/try", {"q": "pesten"})[0] == 200


def test_loopback_names() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_knowledge_base(default_knowledge_dir()))


@pytest.mark.parametrize(
    ("question", "written", "how"),
    [
        ("ik word gepest", "gepest", "synonym"),
        ("wat is intimidatei", "intimidatei", "typo"),
        ("een afdelingsklacht", "afdelingsklacht", "compound"),
        ("mijn xylofoon", "xylofoon", "unknown"),
        ("de afdeling", "afdeling", "stem"),
    ],
)
def test_explain_names_how_each_word_counted(
    engine: Engine, question: str, written: str, how: str
) -> None:
    words = {w.written: w for w in words_of(engine.matcher, question, "nl")}
    assert words[written].how == how


def test_explain_hits_match_the_matcher(engine: Engine) -> None:
    question = "ik word gepest door mijn baas"
    best = engine.matcher.match(question, limit=1, lang="nl")[0]
    words = words_of(engine.matcher, question, best.lang)
    hits = hits_for(engine.matcher, words, best.entry.id, best.lang)
    assert {h.word.written for h in hits} == {"gepest", "baas"}
    assert all(h.points > 0 for h in hits)


def test_broken_and_odd_question_files(server: Server) -> None:
    tests = server.root / "tests"
    (tests / "zz-broken.yaml").write_text("- {q: [\n", encoding="utf-8")
    (tests / "zz-odd.yaml").write_text(
        "- {q: pesten, entry: 5}\n- {q: 12}\n- just text\n"
        "- {q: waar kan ik parkeren, route: [vpoo], entry: nope}\n",
        encoding="utf-8",
    )
    try:
        status, page, _ = _get(server.url + "/sets?file=zz-broken.yaml")
        assert status == 200 and "cannot be read as a question file" in page
        status, page, _ = _get(server.url + "/sets?file=zz-odd.yaml")
        assert status == 200 and "do not exist" in page and "nope" in page
        assert "knowledge/tests/zz-odd.yaml:4" in page
    finally:
        (tests / "zz-broken.yaml").unlink()
        (tests / "zz-odd.yaml").unlink()


def test_try_compares_with_the_entry_it_should_find(server: Server) -> None:
    data = {"q": "ik word gepest door een collega", "compare": "eed-of-belofte"}
    status, page, _ = _get(server.url + "/try", data)
    assert status == 200
    top = page.split('id="h-top"', 1)[1].split("</table>", 1)[0]
    # Not among the best five, so it is shown below them, with what it lacks.
    assert top.count("<tr>") == 7
    assert "/entry/eed-of-belofte" in top
    assert "Not in this entry" in top
    status, page, _ = _get(server.url + "/try", {"q": "pesten", "compare": "<script>"})
    assert status == 200 and "<script>" not in page.split("</head>", 1)[1]


def test_wording_is_complete_in_both_languages() -> None:
    data = yaml.safe_load(WORDING.read_text(encoding="utf-8"))
    assert set(data) == {"en", "nl"}
    assert set(data["en"]) == set(data["nl"])
    for key, text in data["en"].items():
        assert re.findall(r"{\w+}", text) == re.findall(r"{\w+}", data["nl"][key]), key
