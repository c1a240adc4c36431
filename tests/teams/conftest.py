"""Fixtures: the real Teams endpoint in this event loop on a free loopback port, with a
local connector and a local OpenID/JWKS/token server beside it."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from adapters.teams._app import start
from adapters.teams._settings import load_settings
from bot import Engine, configure_logging, load_knowledge_base
from tests.conftest import make_test_kb
from tests.teams.helpers import (
    APP_ID,
    TENANT_ID,
    Connector,
    OpenIdServer,
    activity,
    sign,
    start_peer,
)


@dataclass
class Teams:
    """One running endpoint and its peers."""

    url: str
    engine: Engine
    connector: Connector
    openid: OpenIdServer
    session: aiohttp.ClientSession
    logs: io.StringIO
    env: dict[str, str]

    async def post(
        self,
        body: Any,
        *,
        token: str | None = "sign",  # noqa: S107 (a marker, not a secret)
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, str]:
        """POST to /api/messages; `token="sign"` signs a valid token for the connector."""
        hdrs = {"Content-Type": "application/json"}
        if token == "sign":
            token = sign(self.connector.url)
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        data = raw if raw is not None else json.dumps(body).encode()
        payload: Any = io.BytesIO(data) if len(data) > 512 * 1024 else data
        async with self.session.post(f"{self.url}/api/messages", data=payload, headers=hdrs) as r:
            return r.status, await r.text()

    def message(self, text: str | None = "", **kw: Any) -> dict[str, Any]:
        return activity(self.connector.url, text=text, **kw)


def teams_env(openid: str, connector: str, **extra: str) -> dict[str, str]:
    env = {
        "WEGWIJZER_TEAMS_PORT": "0",
        "WEGWIJZER_TEAMS_HOST": "127.0.0.1",
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppPassword": "local-test-secret",
        "MicrosoftAppTenantId": TENANT_ID,
        "MicrosoftAppType": "SingleTenant",
        "WEGWIJZER_TEAMS_OPENID_URL": f"{openid}/openid",
        "WEGWIJZER_TEAMS_TOKEN_URL": f"{openid}/token",
        "WEGWIJZER_TEAMS_SERVICE_URLS": connector.rstrip("/"),
        "WEGWIJZER_TEAMS_RETRY_BASE_SECONDS": "0.01",
    }
    env.update(extra)
    return env


@pytest.fixture
def teams_extra_env() -> dict[str, str]:
    """Override in a test module to change settings."""
    return {}


@pytest.fixture(scope="session")
def teams_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """One engine on the small test knowledge base for all Teams tests (loading takes
    ~0.5 s); each test starts with an empty conversation store."""
    return Engine(load_knowledge_base(make_test_kb(tmp_path_factory.mktemp("teams-kb"))))


@pytest.fixture
async def teams(teams_engine: Engine, teams_extra_env: dict[str, str]) -> AsyncIterator[Teams]:
    engine = teams_engine
    engine.store.clear()
    logs = io.StringIO()
    configure_logging("DEBUG", stream=logs)
    openid, connector = OpenIdServer(), Connector()
    openid.peer = await start_peer(openid.app())
    connector.peer = await start_peer(connector.app())
    env = teams_env(openid.url, connector.url, **teams_extra_env)
    runner, port = await start(engine, load_settings(env))
    async with aiohttp.ClientSession() as session:
        yield Teams(f"http://127.0.0.1:{port}", engine, connector, openid, session, logs, env)
    await runner.cleanup()
    await connector.peer.close()
    await openid.peer.close()
    configure_logging("WARNING", stream=io.StringIO())
