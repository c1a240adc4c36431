"""The workbench in a real Chromium: every page axe-clean, keyboard use, the rendered Teams
card, no request beyond the page's origin, no CSP violation, and the live reload on an
edited and on a broken knowledge folder."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from bot._kb import fingerprint
from tests.workbench.conftest import Server
from workbench._app import ADAPTIVECARDS_JS

pytestmark = pytest.mark.workbench
ENTRY = "pesten-op-het-werk"
#: How long the page may take to follow an edit: about 2 s (the folder is checked every
#: second, loading takes one), with room for a busy shared test machine.
FOLLOW_MS = 15000


@pytest.fixture(params=["en-GB"])
def page(request: pytest.FixtureRequest, browser: Browser, server: Server) -> Iterator[Page]:
    """A page in a browser whose first language is `request.param` (English by default)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=request.param)
    pg = ctx.new_page()
    outside: list[str] = []
    refused: list[str] = []
    origin = urlsplit(server.url).netloc

    def watch(route: Route) -> None:
        if urlsplit(route.request.url).netloc != origin:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def console(msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text or "Refused to" in msg.text:
            refused.append(msg.text)

    ctx.route("**/*", watch)
    pg.on("console", console)
    yield pg
    ctx.close()
    assert not outside, f"requests left the origin: {outside}"
    assert not refused, f"CSP violations: {refused}"


def _axe_clean(page: Page, server: Server, name: str, shots: Path) -> None:
    _settled(page, server)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    result = Axe().run(page)
    assert result.violations_count == 0, result.generate_report()


def test_overview(page: Page, server: Server, shots: Path) -> None:
    page.goto(server.url + "/")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator("#h-counts")).to_be_visible()
    _axe_clean(page, server, "overview", shots)


@pytest.mark.parametrize("page", ["nl-NL"], indirect=True)
def test_pages_in_dutch_for_a_dutch_browser(page: Page, server: Server, shots: Path) -> None:
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("h1")).to_have_text("Overzicht")
    _axe_clean(page, server, "overview-nl", shots)
    page.goto(server.url + "/try")
    page.fill("#q", "ik word gepest door mijn leidinggevende, is dat intimidatei")
    page.click("#try-form button[type=submit]")
    expect(page.locator("#h-words ~ table").first).to_contain_text("tikfout verbeterd")
    _axe_clean(page, server, "try-nl", shots)


def test_entry_in_every_channel(page: Page, server: Server, shots: Path) -> None:
    page.goto(f"{server.url}/entry/{ENTRY}?lang=nl&details=1")
    expect(page.locator(".console")).to_contain_text("Pesten op het werk")
    expect(page.locator(".matrix-view h4")).to_be_visible()
    expect(page.locator(".web-view article")).to_be_visible()
    if ADAPTIVECARDS_JS.is_file():
        host = page.locator(".ac-host[data-rendered=yes]")
        expect(host).to_be_visible()
        expect(host).to_contain_text("Pesten op het werk")
    else:
        expect(page.locator("#h-teams + .notice")).to_be_visible()
    _axe_clean(page, server, "entry-nl-details", shots)
    page.goto(f"{server.url}/entry/{ENTRY}?lang=en&details=0")
    expect(page.locator(".console")).to_contain_text("Bullying")
    _axe_clean(page, server, "entry-en", shots)


def test_try_a_question_by_keyboard(page: Page, server: Server, shots: Path) -> None:
    page.goto(server.url + "/try")
    page.keyboard.press("Tab")  # the skip link first
    expect(page.locator(".skip-link")).to_be_focused()
    page.locator("#q").focus()
    page.keyboard.type("ik word gepest door mijn leidinggevende, is dat intimidatei")
    for _ in range(3):  # language, the entry to compare with, the button
        page.keyboard.press("Tab")
    expect(page.locator("#try-form button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#result .decision")).to_be_visible()
    expect(page.locator("#h-top + table")).to_contain_text("intimidatei")
    expect(page.locator("#h-words ~ table").first).to_contain_text("typo corrected")
    # The question stays out of the address bar (and so out of the history).
    assert "gepest" not in page.url
    page.locator("#h-decision").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "try-result.png"))
    _axe_clean(page, server, "try", shots)


def test_question_set(page: Page, server: Server, shots: Path) -> None:
    page.goto(server.url + "/sets")
    page.select_option("#file", "vragen.yaml")
    page.click("form.ask button[type=submit]")
    expect(page.locator("#h-outcomes")).to_be_visible()
    expect(page.locator("#h-never")).to_be_visible()
    _axe_clean(page, server, "question-set", shots)


def _write(path: Path, text: str) -> None:
    """Save as most editors do, all at once: the watcher never reads half a file here (a
    half-written file is refused and read again once complete, which would add a reload)."""
    tmp = path.with_suffix(".saving")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _settled(page: Page, server: Server) -> None:
    """Wait until the workbench has read the folder as it is now and the page shows that
    version: a file restored by an earlier test reloads the page once more, and axe must
    not run while it does."""
    wb = server.workbench
    deadline = time.monotonic() + FOLLOW_MS / 1000
    while time.monotonic() < deadline:
        if wb.loaded_from == fingerprint(server.root):
            version = str(wb.snapshot.version)
            expect(page.locator(f"body[data-version='{version}']")).to_be_attached(
                timeout=FOLLOW_MS
            )
            page.wait_for_load_state("load")
            return
        time.sleep(0.1)
    raise AssertionError("the workbench did not read the changed folder in time")


def _replace_in(path: Path, old: str, new: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert old in text
    _write(path, text.replace(old, new, 1))
    return text


def test_page_follows_an_edit(page: Page, server: Server, shots: Path) -> None:
    path = server.root / "entries" / "ongewenst-gedrag.yaml"
    page.goto(f"{server.url}/entry/{ENTRY}?lang=nl")
    expect(page.locator(".console")).to_contain_text("Pesten op het werk")
    new = "title: Pesten (bewerkt) op het werk"
    original = _replace_in(path, "title: Pesten op het werk", new)
    try:
        expect(page.locator(".console")).to_contain_text(
            "Pesten (bewerkt) op het werk", timeout=FOLLOW_MS
        )
        page.screenshot(path=str(shots / "entry-after-edit.png"), full_page=True)
    finally:
        _write(path, original)
    expect(page.locator(".console")).not_to_contain_text("bewerkt", timeout=FOLLOW_MS)


def test_tried_question_follows_an_edit(page: Page, server: Server) -> None:
    """The "done when" of the issue: fix the YAML, the open result changes by itself."""
    path = server.root / "entries" / "ongewenst-gedrag.yaml"
    page.goto(server.url + "/try")
    page.fill("#q", "ik heb last van kwelgeesten")
    page.click("#try-form button[type=submit]")
    expect(page.locator("#result")).to_be_visible()
    first = page.locator("#h-top + table tbody tr").first
    expect(first).not_to_contain_text(ENTRY)
    original = _replace_in(
        path, "title: Pesten op het werk", "title: Pesten op het werk, last van kwelgeesten"
    )
    try:
        expect(first).to_contain_text(ENTRY, timeout=FOLLOW_MS)
        assert page.locator("#q").input_value() == "ik heb last van kwelgeesten"
    finally:
        _write(path, original)
    expect(first).not_to_contain_text(ENTRY, timeout=FOLLOW_MS)


def test_counsellors_part_in_every_channel(page: Page, server: Server) -> None:
    engine = server.workbench.snapshot.engine
    assert engine is not None
    without = [e for e in engine.kb.entries if not e.text("nl").details]
    if without:
        page.goto(f"{server.url}/entry/{without[0].id}?lang=nl")
        expect(page.locator(".switches")).to_contain_text("no part for counsellors")
    path = server.root / "entries" / "ongewenst-gedrag.yaml"
    proef = "Grondslag voor de proef"
    existing = engine.kb.by_id[ENTRY].text("nl").details
    if existing:  # the entry has its own part: its first words are changed
        old, new = existing.splitlines()[0].removeprefix("- ")[:20], proef
    else:
        old = "      title: Pesten op het werk\n"
        new = f"{old}      details: |\n        {proef}\n"
    page.goto(f"{server.url}/entry/{ENTRY}?lang=nl&details=1")
    original = _replace_in(path, old, new)
    try:
        expect(page.locator(".console")).to_contain_text(proef, timeout=FOLLOW_MS)
        expect(page.locator(".matrix-view")).to_contain_text(proef)
        expect(page.locator(".web-view details.details[open]")).to_contain_text(proef)
        if ADAPTIVECARDS_JS.is_file():
            expect(page.locator(".ac-host")).to_contain_text(proef)
        page.goto(f"{server.url}/entry/{ENTRY}?lang=nl&details=0")
        expect(page.locator(".web-view details.details")).not_to_have_attribute("open", "")
    finally:
        _write(path, original)


def test_broken_folder_keeps_the_last_good_state(page: Page, server: Server, shots: Path) -> None:
    path = server.root / "entries" / "ongewenst-gedrag.yaml"
    page.goto(server.url + "/")
    _settled(page, server)
    expect(page.locator(".status.ok")).to_be_visible()
    original = path.read_text(encoding="utf-8")
    # Two mistakes a coordinator makes: a theme that does not exist, an unclosed quote.
    broken = original.replace("theme: ", "theme: geen-thema-", 1)
    _write(path, broken)
    try:
        expect(page.locator(".status.bad")).to_be_visible(timeout=FOLLOW_MS)
        problem = page.locator(".problem.error", has_text="is not in themes.yaml").first
        expect(problem).to_be_visible(timeout=FOLLOW_MS)
        expect(problem.locator(".excerpt .hit")).to_contain_text("geen-thema-")
        # The last good state is still shown beside the errors.
        expect(page.locator("#h-counts")).to_be_visible()
        _axe_clean(page, server, "broken-folder", shots)
        _write(path, original.replace("title: ", 'title: "', 1))
        # The file no longer reads at all: its own error, and the references into it dangle.
        own = page.locator(".problem.error", has_text="ongewenst-gedrag.yaml")
        expect(own).to_be_visible(timeout=FOLLOW_MS)
        expect(page.locator(".problem.error", has_text="does not exist").first).to_be_visible()
        page.screenshot(path=str(shots / "broken-yaml.png"), full_page=True)
        page.goto(f"{server.url}/entry/{ENTRY}")
        expect(page.locator(".console")).to_contain_text("Pesten op het werk")
    finally:
        _write(path, original)
    page.goto(server.url + "/")
    expect(page.locator(".status.ok")).to_be_visible(timeout=FOLLOW_MS)
