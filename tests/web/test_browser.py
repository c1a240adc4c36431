"""The web chat in a real browser: typing, choices, crisis, language, keyboard, axe, privacy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.web.conftest import Server

pytestmark = pytest.mark.web
EXIT = "https://www.buienradar.nl/"
WIDTHS = {"desktop": 1280, "phone": 360}


@pytest.fixture(params=sorted(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _context(browser: Browser, width: int, *, js: bool = True) -> BrowserContext:
    return browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=js, locale="nl-NL"
    )


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    ctx = _context(browser, 1280)
    pg = ctx.new_page()
    outside: list[str] = []
    origin = urlsplit(server.url).netloc

    def watch(route: Route) -> None:
        host = urlsplit(route.request.url).netloc
        if host != origin:
            outside.append(route.request.url)
            route.fulfill(status=200, body="neutral page", content_type="text/plain")
        else:
            route.continue_()

    ctx.route("**/*", watch)
    pg.goto(server.url)
    yield pg
    assert all(u.startswith(EXIT) for u in outside), f"requests left the origin: {outside}"
    ctx.close()


def _ask(page: Page, text: str) -> None:
    before = page.locator("#log article").count()
    page.fill("#question", text)
    page.click("#ask button[type=submit]")
    expect(page.locator("#log article")).to_have_count(before + 1)


def _axe_clean(page: Page, name: str, shots: Path) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    result = Axe().run(page)
    assert result.violations_count == 0, result.generate_report()


def test_question_answer_and_choice(page: Page, shots: Path) -> None:
    _ask(page, "ik word gepest door mijn leidinggevende")
    last = page.locator("#log article").last
    expect(last.locator("h2")).to_be_visible()
    expect(page.locator("#log .turn.person").last).to_contain_text("gepest")
    # A related entry as a button: the answer to it arrives without a page load.
    url = page.url
    last.locator("button.choice").first.click()
    expect(page.locator("#log article")).to_have_count(3)
    assert page.url == url
    expect(page.locator("#question")).to_be_editable()
    page.screenshot(path=str(shots / "answer-and-choice.png"), full_page=True)


def test_contact_cards_have_tel_and_mailto(page: Page) -> None:
    _ask(page, "organisatie")
    page.locator("#log article").last.locator("button.choice").first.click()
    expect(page.locator("#log article")).to_have_count(3)
    _ask(page, "ik word gepest door een collega")
    cards = page.locator("#log article").last.locator(".contact")
    expect(cards.first).to_be_visible()
    links = page.locator("#log article").last.locator("a[href^='tel:'], a[href^='mailto:']")
    assert links.count() >= 1


def test_crisis_block_first_with_tel_links(page: Page, shots: Path) -> None:
    _ask(page, "ik wil niet meer leven")
    last = page.locator("#log article").last
    first_child = last.locator(":scope > *").first
    expect(first_child).to_have_class("crisis")
    expect(last.locator(".crisis a[href='tel:112']")).to_be_visible()
    expect(last.locator(".crisis a[href='tel:113']")).to_be_visible()
    page.screenshot(path=str(shots / "crisis.png"), full_page=True)


def test_language_switch_sets_lang(page: Page) -> None:
    assert page.get_attribute("html", "lang") == "nl"
    page.click(".lang-switch button")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label[for=question]")).to_have_text("Your question")
    page.click(".lang-switch button")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("label[for=question]")).to_have_text("Je vraag")


def test_keyboard_only(page: Page) -> None:
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    page.locator("#question").focus()
    page.keyboard.type("Wat doet een vertrouwenspersoon?")
    page.keyboard.press("Enter")
    expect(page.locator("#log article")).to_have_count(2)
    expect(page.locator("#question")).to_be_focused()
    # Tab reaches the choices of the answer; Enter picks one.
    page.locator("#log article").last.locator("button.choice").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#log article")).to_have_count(3)


def test_no_cookies_no_storage(page: Page, server: Server) -> None:
    _ask(page, "mag mijn werkgever mijn verlof weigeren")
    assert page.context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("document.cookie") == ""


def test_quick_exit_clears_and_leaves(page: Page, server: Server) -> None:
    _ask(page, "ik word gepest")
    page.click("#quick-exit")
    page.wait_for_url(EXIT + "**")
    assert "neutral page" in page.content()
    page.go_back()
    # Going back shows a fresh page, never the conversation.
    assert page.locator("#log .turn.person").count() == 0


@pytest.mark.parametrize("state", ["welcome", "answer", "crisis", "english"])
def test_axe_every_state(browser: Browser, server: Server, shots: Path, state: str) -> None:
    for name, px in WIDTHS.items():
        ctx = _context(browser, px)
        pg = ctx.new_page()
        pg.goto(server.url)
        if state == "answer":
            _ask(pg, "hoeveel vakantiedagen heb ik")
        elif state == "crisis":
            _ask(pg, "ik wil er een eind aan maken")
        elif state == "english":
            pg.click(".lang-switch button")
            expect(pg.locator("html")).to_have_attribute("lang", "en")
            _ask(pg, "I am being bullied by my manager")
        pg.locator("details").evaluate_all("els => els.forEach(e => e.open = true)")
        _axe_clean(pg, f"{state}-{name}", shots)
        # 200% zoom on a phone-sized window: no sideways scrolling.
        scroll = pg.evaluate("document.documentElement.scrollWidth")
        assert scroll <= px, f"{state} at {px}px scrolls sideways ({scroll}px)"
        ctx.close()


def test_zoom_200_percent(browser: Browser, server: Server) -> None:
    ctx = _context(browser, 640)
    pg = ctx.new_page()
    pg.goto(server.url)
    _ask(pg, "ik word gepest door mijn leidinggevende")
    pg.evaluate("document.body.style.zoom = '200%'")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 640
    ctx.close()


def test_without_javascript(browser: Browser, server: Server, shots: Path) -> None:
    ctx = _context(browser, 360, js=False)
    pg = ctx.new_page()
    pg.goto(server.url)
    expect(pg.locator("noscript")).to_have_count(1)
    pg.fill("#question", "ik word gepest door mijn leidinggevende")
    pg.click("#ask button[type=submit]")
    expect(pg.locator("#log .turn.person")).to_contain_text("gepest")
    expect(pg.locator("#log article h2")).to_be_visible()
    token = pg.locator("#ask input[name=token]").input_value()
    # A choice button posts the form; the server keeps the choices, not the text.
    pg.locator("#log article button.choice").first.click()
    expect(pg.locator("#log article h2")).to_be_visible()
    assert pg.locator("#ask input[name=token]").input_value() == token
    pg.click(".lang-switch button")
    expect(pg.locator("html")).to_have_attribute("lang", "en")
    pg.screenshot(path=str(shots / "nojs-phone.png"), full_page=True)
    ctx.close()


def test_without_javascript_axe(browser: Browser, server: Server, shots: Path) -> None:
    """axe needs script to run, so the page's own script is blocked instead of all script."""
    ctx = _context(browser, 360)
    ctx.route("**/static/chat.js", lambda route: route.abort())
    pg = ctx.new_page()
    pg.goto(server.url)
    pg.fill("#question", "ik word gepest door mijn leidinggevende")
    pg.click("#ask button[type=submit]")
    expect(pg.locator("#log .turn.person")).to_contain_text("gepest")
    _axe_clean(pg, "nojs-answer-phone", shots)
    ctx.close()


def test_canary_through_the_page(
    page: Page, server: Server, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """A unique string typed in the page is in no log line and no file written."""
    import logging
    import time

    from tests.test_privacy import REPO, assert_nowhere, new_canary

    caplog.set_level(logging.DEBUG)
    since = time.time() - 1
    canary = new_canary()
    for text in (f"ik word gepest {canary}", canary, f"ik wil niet meer leven {canary}"):
        _ask(page, text)
    page.click(".lang-switch button")
    assert "127.0.0.1" not in caplog.text  # no addresses either: the access log is off
    assert_nowhere(canary, [caplog.text], [REPO, tmp_path], since)
