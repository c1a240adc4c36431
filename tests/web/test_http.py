"""The web chat's HTTP face: headers, the JSON turn, the form, bad requests, limits, canary."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.web import PLATFORM
from adapters.web._app import CSP, build_app
from adapters.web._limits import RateLimiter
from adapters.web._settings import Settings, load_settings
from bot import Engine
from tests.test_privacy import REPO, assert_nowhere, new_canary

TOKEN = "t" * 32


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[TestClient[object, object]]:
    app = build_app(engine, Settings(port=0, per_conversation_per_minute=5, total_per_second=1000))
    async with TestClient(TestServer(app, access_log=None)) as c:
        yield c


async def _turn(
    client: TestClient[object, object], **body: object
) -> tuple[int, dict[str, object]]:
    resp = await client.post("/api/turn", json={"token": TOKEN, **body})
    return resp.status, await resp.json()


async def test_page_headers(client: TestClient[object, object]) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.headers["Content-Security-Policy"] == CSP
    assert "default-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
    assert "unsafe-inline" not in CSP
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "camera=()" in resp.headers["Permissions-Policy"]
    assert "Set-Cookie" not in resp.headers
    page = await resp.text()
    assert "<script>" not in page and " style=" not in page  # nothing inline for the CSP
    assert 'name="token"' in page


async def test_api_turn_answers_and_is_not_cached(client: TestClient[object, object]) -> None:
    resp = await client.post("/api/turn", json={"token": TOKEN, "text": "ik word gepest"})
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    data = await resp.json()
    assert "<article" in str(data["html"]) and data["lang"] == "nl"


async def test_choices_carry_over(client: TestClient[object, object]) -> None:
    await _turn(client, text="menu")
    status, data = await _turn(client, text="1")
    assert status == 200 and "<article" in str(data["html"])


async def test_language_switch_sends_page_words(client: TestClient[object, object]) -> None:
    status, data = await _turn(client, action="lang:en", lang="nl")
    assert status == 200 and data["lang"] == "en"
    assert isinstance(data["ui"], dict) and data["ui"]["web_send"] == "Send"


@pytest.mark.parametrize(
    ("body", "ctype", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"token": "short", "text": "hoi"}', "application/json", 400),
        (b'{"token": "' + b"t" * 32 + b'", "text": 5}', "application/json", 400),
        (b'{"token": "' + b"t" * 32 + b'", "action": "\\u0000x"}', "application/json", 400),
        (b"\xff\xfe\x00binary", "application/json", 400),
        (b"text=hoi", "text/plain", 415),
        (b"{}" + b" " * 300_000, "application/json", 413),
    ],
)
async def test_bad_requests_get_clear_answers(
    client: TestClient[object, object], body: bytes, ctype: str, status: int
) -> None:
    resp = await client.post("/api/turn", data=body, headers={"Content-Type": ctype})
    assert resp.status == status
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\u202e\u200b" * 50,
        "a" * 20_000,
        "<script>alert(1)</script>",
        "😀" * 300,
        "\x00\x01",
    ],
)
async def test_odd_messages_never_crash(client: TestClient[object, object], text: str) -> None:
    status, data = await _turn(client, text=text)
    assert status in (200, 400)
    assert "<script>" not in str(data.get("html", ""))


async def test_rate_limit_is_friendly(client: TestClient[object, object]) -> None:
    statuses = [(await _turn(client, text="menu"))[0] for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429
    _, data = await _turn(client, text="menu")
    assert "minuut" in str(data["html"])


async def test_form_post_without_javascript(client: TestClient[object, object]) -> None:
    resp = await client.post("/", data={"token": TOKEN, "text": "ik word gepest", "lang": "nl"})
    assert resp.status == 200
    page = await resp.text()
    assert "ik word gepest" in page and "<h2>" in page
    assert f'value="{TOKEN}"' in page


async def test_forget_drops_state(client: TestClient[object, object], engine: Engine) -> None:
    await _turn(client, text="menu")
    resp = await client.post("/api/forget", data=json.dumps({"token": TOKEN}))
    assert resp.status == 204
    status, _ = await _turn(client, text="1")
    assert status == 200  # "1" without an offered list: no answer from the old menu


async def test_static_and_health(client: TestClient[object, object]) -> None:
    assert (await client.get("/static/chat.js")).status == 200
    assert (await client.get("/static/../_app.py")).status == 404
    assert (await client.get("/static/nope.js")).status == 404
    assert (await client.get("/healthz")).status == 200


def test_rate_limiter_refills() -> None:
    now = [0.0]
    rl = RateLimiter(2, 100, clock=lambda: now[0])
    assert rl.allow("a")[0] and rl.allow("a")[0]
    assert rl.allow("a") == (False, "conversation")
    assert rl.allow("b")[0]
    now[0] += 30.0
    assert rl.allow("a")[0]


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"WEGWIJZER_WEB_PORT": "http"}, "WEGWIJZER_WEB_PORT"),
        ({"WEGWIJZER_WEB_PORT": "99999"}, "WEGWIJZER_WEB_PORT"),
        ({"WEGWIJZER_WEB_PORT": "8080", "WEGWIJZER_WEB_HOST": "evil host"}, "WEGWIJZER_WEB_HOST"),
        ({"WEGWIJZER_WEB_PORT": "8080", "WEGWIJZER_WEB_EXIT_URL": "http://x"}, "EXIT_URL"),
        ({"WEGWIJZER_WEB_PORT": "8080", "WEGWIJZER_WEB_RATE": "0"}, "WEGWIJZER_WEB_RATE"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        PLATFORM.check(env)
    assert load_settings({"WEGWIJZER_WEB_PORT": "8080"}).host == "127.0.0.1"


async def test_canary_web_channel(
    client: TestClient[object, object], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    canary = new_canary()
    since = time.time() - 1
    caplog.set_level(logging.DEBUG)
    for text in (f"ik word gepest {canary}", canary, f"ik wil niet meer leven {canary}"):
        await _turn(client, text=text)
    await client.post("/", data={"token": TOKEN, "text": f"vraag {canary}"})
    await client.post(
        "/api/turn", data=f'{{"token": "{canary}"', headers={"Content-Type": "application/json"}
    )
    await client.post("/api/forget", data=json.dumps({"token": TOKEN}))
    assert_nowhere(canary, [caplog.text], [REPO, tmp_path], since)


async def test_did_this_help_buttons(client: TestClient[object, object]) -> None:
    status, data = await _turn(client, text="ik word gepest door mijn leidinggevende")
    page = str(data["html"])
    assert status == 200 and 'class="turn-form feedback"' in page
    assert 'value="feedback:yes' in page and 'value="feedback:no' in page
    action = page.split('value="feedback:yes', 1)[1].split('"', 1)[0]
    status, data = await _turn(client, action="feedback:yes" + action)
    assert status == 200 and "feedback" not in str(data["html"])
