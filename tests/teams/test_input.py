"""Bad requests get a clear status, never a crash, and nothing they carry is logged."""

from __future__ import annotations

import json
import uuid

import pytest

from adapters.teams._settings import load_settings
from tests.teams.conftest import Teams, teams_env
from tests.teams.helpers import flatten, sign

pytestmark = pytest.mark.teams


def canary() -> str:
    return f"kanarie{uuid.uuid4().hex}"


async def test_wrong_content_type_is_415(teams: Teams) -> None:
    c = canary()
    body = json.dumps(teams.message(c)).encode()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx"):
        status, _ = await teams.post(None, raw=body, headers={"Content-Type": ctype})
        assert status == 415
    assert c not in teams.logs.getvalue() and teams.connector.attempts == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"[1, 2]",
        b"null",
        b"\xff\xfe\x00binary",
        b'{"type": "message"}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["empty", "truncated", "array", "null", "binary", "no conversation", "deep nesting"],
)
async def test_malformed_body_is_400(teams: Teams, raw: bytes) -> None:
    status, body = await teams.post(None, raw=raw)
    assert status == 400, body
    assert teams.connector.attempts == 0


@pytest.mark.parametrize(
    "change",
    [
        {"text": 5},
        {"text": {"a": 1}},
        {"conversation": "not an object"},
        {"serviceUrl": None},
        {"recipient": None},
        {"entities": "x"},
        {"locale": []},
        {"channelId": ""},
    ],
)
async def test_malformed_activity_is_400(teams: Teams, change: dict[str, object]) -> None:
    c = canary()
    body = teams.message(c)
    body.update(change)
    status, _ = await teams.post(body)
    assert status == 400
    assert c not in teams.logs.getvalue() and teams.connector.attempts == 0


async def test_body_over_one_mib_is_413(teams: Teams) -> None:
    c = canary()
    body = teams.message(c + "x" * (1024 * 1024))
    status, _ = await teams.post(body)
    assert status == 413
    # Also without a Content-Length header (chunked upload).
    data = json.dumps(body).encode()

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    async with teams.session.post(
        f"{teams.url}/api/messages",
        data=chunks(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {sign(teams.connector.url)}",
        },
    ) as r:
        assert r.status == 413
    assert c not in teams.logs.getvalue() and teams.connector.attempts == 0


async def test_odd_text_gets_a_reply(teams: Teams) -> None:
    for text in ["", "   ", "\x00\u202e\u200b", "😀" * 50, "x" * 70_000, "<at>nobody</at>", None]:
        status, _ = await teams.post(teams.message(text))
        assert status == 200
    assert len(teams.connector.received) == 7
    assert all(flatten(c).strip() for c in teams.connector.cards())


async def test_malformed_entities_and_values_are_ignored(teams: Teams) -> None:
    room = {"conversation": "19:room@thread.v2", "conversation_type": "groupChat"}
    weird = [{"type": "mention"}, {"type": "mention", "mentioned": "x"}, {"no": "type"}]
    status, _ = await teams.post(teams.message("menu", entities=weird, **room))
    assert status == 200 and teams.connector.received == []
    for value in [{"wegwijzer": 5}, {"wegwijzer": "x" * 5000}, [1, 2], "entry:pesten"]:
        status, _ = await teams.post(teams.message(None, value=value))
        assert status == 200
    assert len(teams.connector.received) == 4


async def test_connector_busy_is_retried_with_backoff(teams: Teams) -> None:
    teams.connector.fail = [429, 412, 502, 504]
    status, _ = await teams.post(teams.message("menu"))
    assert status == 200
    assert teams.connector.attempts == 5 and len(teams.connector.received) == 1


async def test_connector_down_is_502_not_a_crash(teams: Teams) -> None:
    c = canary()
    teams.connector.fail = [503]
    status, body = await teams.post(teams.message(f"ik word gepest {c}"))
    assert status == 502 and "Traceback" not in body
    teams.connector.fail = [502] * 10
    status, _ = await teams.post(teams.message("menu"))
    assert status == 502
    assert teams.connector.attempts == 1 + 5  # five attempts, then it gives up
    assert c not in teams.logs.getvalue()


def test_settings_refuse_to_start_without_an_app_id() -> None:
    env = teams_env("http://127.0.0.1:1", "http://127.0.0.1:2")
    del env["MicrosoftAppId"]
    with pytest.raises(ValueError, match="MicrosoftAppId"):
        load_settings(env)
    insecure = load_settings({**env, "WEGWIJZER_TEAMS_INSECURE_NO_AUTH": "1"})
    assert insecure.insecure
    assert insecure.service_url_allowed("http://127.0.0.1:5/")
    assert not insecure.service_url_allowed("https://smba.trafficmanager.net/emea/")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEGWIJZER_TEAMS_PORT", "http"),
        ("WEGWIJZER_TEAMS_PORT", "70000"),
        ("MicrosoftAppId", "not-a-guid"),
        ("MicrosoftAppPassword", ""),
        ("MicrosoftAppTenantId", ""),
        ("MicrosoftAppType", "UserAssignedMSI"),
        ("WEGWIJZER_TEAMS_SERVICE_URLS", "ftp://x"),
        ("WEGWIJZER_TEAMS_OPENID_URL", "http://example.org/openid"),
        ("WEGWIJZER_TEAMS_RETRY_ATTEMPTS", "many"),
    ],
)
def test_bad_settings_are_value_errors(name: str, value: str) -> None:
    env = teams_env("http://127.0.0.1:1", "http://127.0.0.1:2")
    env[name] = value
    with pytest.raises(ValueError, match=name.split("_")[0]):
        load_settings(env)


def test_default_service_urls_are_the_teams_hosts() -> None:
    env = teams_env("http://127.0.0.1:1", "http://127.0.0.1:2")
    del env["WEGWIJZER_TEAMS_SERVICE_URLS"]
    s = load_settings(env)
    assert s.service_url_allowed("https://smba.trafficmanager.net/emea/")
    assert s.service_url_allowed("https://smba.trafficmanager.net/amer/")
    assert not s.service_url_allowed("http://smba.trafficmanager.net/emea/")
    assert not s.service_url_allowed("https://smba.trafficmanager.net.evil.example/")
    assert not s.service_url_allowed("https://user@smba.trafficmanager.net/")
    assert not s.service_url_allowed("https://127.0.0.1/")


class TestInsecureMode:
    @pytest.fixture
    def teams_extra_env(self) -> dict[str, str]:
        return {"WEGWIJZER_TEAMS_INSECURE_NO_AUTH": "1", "MicrosoftAppId": ""}

    async def test_no_token_needed_and_loopback_only(self, teams: Teams) -> None:
        status, _ = await teams.post(teams.message("menu"), token=None)
        assert status == 200
        (sent,) = teams.connector.received
        assert sent.authorization is None and "token" not in teams.openid.calls
        body = teams.message("menu")
        body["serviceUrl"] = "https://smba.trafficmanager.net/emea/"
        status, _ = await teams.post(body, token=None)
        assert status == 403
        assert len(teams.connector.received) == 1
