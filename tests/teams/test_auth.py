"""Every bad token gets 401, runs no turn and makes no outbound call."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest

from tests.teams.conftest import Teams
from tests.teams.helpers import APP_ID, rsa_key, sign, unsigned_token

pytestmark = pytest.mark.teams

EVIL = "https://evil.example/"


def _hs256_with_public_key(url: str) -> str:
    # The classic algorithm-confusion attack: the public key used as an HMAC secret.
    from cryptography.hazmat.primitives import serialization

    pem = (
        rsa_key("good")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return jwt.encode(
        {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": 2**40, "serviceurl": url},
        pem.decode()[:64],
        algorithm="HS256",
        headers={"kid": "good-kid"},
    )


BAD: dict[str, Callable[[str], str | None]] = {
    "missing": lambda url: None,
    "expired": lambda url: sign(url, lifetime=-3600),
    "alg none": unsigned_token,
    "hs256 confusion": _hs256_with_public_key,
    "unknown key id": lambda url: sign(url, kid="no-such-kid"),
    "wrong key": lambda url: sign(url, key="rogue"),
    "wrong audience": lambda url: sign(url, aud="99999999-1111-2222-3333-444444444444"),
    "no audience": lambda url: sign(url, aud=None),
    "wrong issuer": lambda url: sign(url, iss="https://sts.windows.net/someone-else/"),
    "no expiry": lambda url: sign(url, exp=None),
    "not endorsed for msteams": lambda url: sign(url, key="webchat", kid="webchat-kid"),
    "service url differs": lambda url: sign(EVIL),
    "no service url claim": lambda url: sign(url, serviceurl=None),
    "garbage": lambda url: "not.a.token",
}


@pytest.mark.parametrize("kind", list(BAD))
async def test_bad_token_is_401_with_no_turn_and_nothing_sent(teams: Teams, kind: str) -> None:
    token = BAD[kind](teams.connector.url)
    status, body = await teams.post(teams.message("ik word gepest"), token=token)
    assert status == 401, body
    assert "Traceback" not in body
    assert teams.connector.attempts == 0
    assert "token" not in teams.openid.calls  # the bot never even asked for its own token
    assert len(teams.engine.store) == 0  # no turn ran


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "bearer  ", "Token abc"])
async def test_wrong_scheme_is_401(teams: Teams, header: str) -> None:
    status, _ = await teams.post(
        teams.message("hallo"), token=None, headers={"Authorization": header}
    )
    assert status == 401
    assert teams.connector.attempts == 0 and len(teams.engine.store) == 0


async def test_valid_token_is_accepted_and_keys_are_cached(teams: Teams) -> None:
    for _ in range(3):
        status, _ = await teams.post(teams.message("menu"))
        assert status == 200
    assert len(teams.connector.received) == 3
    assert teams.openid.calls.count("keys") == 1
    assert teams.openid.calls.count("token") == 1  # the bot's own token is cached too


async def test_unknown_key_ids_do_not_hammer_the_key_server(teams: Teams) -> None:
    await teams.post(teams.message("menu"))
    for _ in range(5):
        status, _ = await teams.post(
            teams.message("menu"), token=sign(teams.connector.url, kid="x")
        )
        assert status == 401
    assert teams.openid.calls.count("keys") <= 2


async def test_service_url_not_allowed_is_refused_before_any_token(teams: Teams) -> None:
    body = teams.message("ik word gepest")
    body["serviceUrl"] = EVIL
    status, _ = await teams.post(body, token=sign(EVIL))
    assert status == 403
    assert teams.connector.attempts == 0 and "token" not in teams.openid.calls
    assert len(teams.engine.store) == 0


async def test_other_channel_is_refused(teams: Teams) -> None:
    body = teams.message("hallo", channelId="emulator")
    status, _ = await teams.post(body)
    assert status == 403
    assert teams.connector.attempts == 0


async def test_no_401_leaks_a_traceback_into_the_log(teams: Teams) -> None:
    for make in BAD.values():
        await teams.post(teams.message("hallo"), token=make(teams.connector.url))
    logs = teams.logs.getvalue()
    assert "Traceback" not in logs
    assert "request refused (401)" in logs


class TestTenants:
    @pytest.fixture
    def teams_extra_env(self) -> dict[str, str]:
        return {"WEGWIJZER_TEAMS_TENANTS": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}

    async def test_only_listed_tenants(self, teams: Teams) -> None:
        status, _ = await teams.post(teams.message("menu"))
        assert status == 200
        status, _ = await teams.post(
            teams.message("menu", tenant="ffffffff-0000-0000-0000-000000000000")
        )
        assert status == 403
        assert len(teams.connector.received) == 1


async def test_a_cached_token_is_still_checked_against_each_activity(teams: Teams) -> None:
    token = sign(teams.connector.url)
    status, _ = await teams.post(teams.message("menu"), token=token)
    assert status == 200
    body = teams.message("menu")
    body["serviceUrl"] = EVIL
    status, _ = await teams.post(body, token=token)
    assert status == 401
    status, _ = await teams.post(teams.message("menu", channelId="webchat"), token=token)
    assert status == 401
    assert len(teams.connector.received) == 1


class TestKeysUnreachable:
    @pytest.fixture
    def teams_extra_env(self) -> dict[str, str]:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        return {"WEGWIJZER_TEAMS_OPENID_URL": f"http://127.0.0.1:{closed}/openid"}

    async def test_no_keys_is_503_and_no_turn(self, teams: Teams) -> None:
        status, body = await teams.post(teams.message("menu"))
        assert status == 503 and "Traceback" not in body
        assert teams.connector.attempts == 0 and len(teams.engine.store) == 0
