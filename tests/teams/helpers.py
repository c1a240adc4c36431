"""Real peers for the Teams endpoint on loopback: an OpenID/JWKS/token server with
locally generated RSA keys, a connector that captures replies (as the Bot Framework
Emulator does), and builders for Teams activities and signed tokens."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = "00000000-1111-2222-3333-444444444444"
TENANT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
BOT_ID = f"28:{APP_ID}"
ISSUER = "https://api.botframework.com"
BOT_TOKEN = "bot-access-token-from-the-local-token-endpoint"
_counter = itertools.count(1)


@cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per name, generated once per test session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(name: str, kid: str, endorsements: list[str]) -> dict[str, Any]:
    numbers = rsa_key(name).public_key().public_numbers()

    def b64(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "n": b64(numbers.n),
        "e": b64(numbers.e),
        "endorsements": endorsements,
    }


#: The key set served: "good" signs Teams tokens; "webchat" is endorsed for another channel.
JWKS = {
    "keys": [
        _jwk("good", "good-kid", ["msteams", "emulator"]),
        _jwk("webchat", "webchat-kid", ["webchat"]),
    ]
}


@dataclass
class Peer:
    """A running aiohttp server on loopback."""

    runner: web.AppRunner
    url: str

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_peer(app: web.Application) -> Peer:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return Peer(runner, f"http://127.0.0.1:{port}")


@dataclass
class OpenIdServer:
    """OpenID metadata, its key set, and an OAuth token endpoint, counting calls."""

    calls: list[str] = field(default_factory=list)
    peer: Peer | None = None

    def app(self) -> web.Application:
        app = web.Application()

        async def metadata(request: web.Request) -> web.Response:
            self.calls.append("metadata")
            return web.json_response(
                {
                    "issuer": ISSUER,
                    "jwks_uri": f"{self.url}/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )

        async def keys(request: web.Request) -> web.Response:
            self.calls.append("keys")
            return web.json_response(JWKS)

        async def token(request: web.Request) -> web.Response:
            form = await request.post()
            self.calls.append("token")
            if form.get("client_id") != APP_ID or form.get("grant_type") != "client_credentials":
                return web.json_response({"error": "invalid_client"}, status=401)
            return web.json_response(
                {"access_token": BOT_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
            )

        app.router.add_get("/openid", metadata)
        app.router.add_get("/keys", keys)
        app.router.add_post("/token", token)
        return app

    @property
    def url(self) -> str:
        assert self.peer is not None
        return self.peer.url


@dataclass
class Captured:
    method: str
    path: str
    authorization: str | None
    body: dict[str, Any]


@dataclass
class Connector:
    """The Bot Framework connector's reply API, capturing what the bot sends."""

    received: list[Captured] = field(default_factory=list)
    #: Statuses to answer before accepting (for the retry tests), consumed in order.
    fail: list[int] = field(default_factory=list)
    attempts: int = 0
    peer: Peer | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)

        async def activities(request: web.Request) -> web.Response:
            self.attempts += 1
            if self.fail:
                status = self.fail.pop(0)
                headers = {"Retry-After": "0"} if status == 429 else {}
                return web.json_response({"error": "busy"}, status=status, headers=headers)
            body = await request.json()
            self.received.append(
                Captured(request.method, request.path, request.headers.get("Authorization"), body)
            )
            self.arrived.set()
            return web.json_response({"id": f"reply-{next(_counter)}"})

        app.router.add_route("*", "/v3/conversations/{conversation}/activities", activities)
        app.router.add_route("*", "/v3/conversations/{conversation}/activities/{id}", activities)
        return app

    @property
    def url(self) -> str:
        assert self.peer is not None
        return self.peer.url + "/"

    def cards(self) -> list[dict[str, Any]]:
        return [card_of(c.body) for c in self.received]


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    return card


_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def flatten(card: dict[str, Any]) -> str:
    """What a person sees on a card: text blocks, facts, button titles; links as text (url)."""
    lines: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "TextBlock":
            lines.append(_LINK.sub(r"\1 (\2)", node["text"]))
        elif kind == "FactSet":
            lines.extend(f"{f['title']}: {f['value']}" for f in node["facts"])
        elif isinstance(kind, str) and kind.startswith("Action."):
            lines.append(node["title"])
        for key in ("body", "items", "columns", "actions"):
            walk(node.get(key))

    walk(card)
    return "\n".join(lines)


def actions(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every action on the card, nested ones included."""

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                yield node
            for key in ("body", "items", "columns", "actions"):
                yield from walk(node.get(key))

    return walk(card)


def sign(
    service_url: str,
    *,
    key: str = "good",
    kid: str = "good-kid",
    alg: str = "RS256",
    lifetime: int = 3600,
    **claims: Any,
) -> str:
    """A Bot Framework channel token, signed with a local key."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": APP_ID,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + lifetime,
        "serviceurl": service_url,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, rsa_key(key), algorithm=alg, headers={"kid": kid})


def unsigned_token(service_url: str) -> str:
    """An `alg: none` token: header and payload, no signature."""

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    head = {"alg": "none", "typ": "JWT", "kid": "good-kid"}
    body = {"iss": ISSUER, "aud": APP_ID, "exp": now + 3600, "serviceurl": service_url}
    return f"{b64(head)}.{b64(body)}."


def activity(
    service_url: str,
    *,
    text: str | None = "",
    kind: str = "message",
    conversation: str = "a:personal-1",
    conversation_type: str = "personal",
    user: str = "29:user-1",
    value: Any = None,
    entities: list[dict[str, Any]] | None = None,
    locale: str = "nl-NL",
    tenant: str = TENANT_ID,
    **extra: Any,
) -> dict[str, Any]:
    """A Teams activity as the Bot Framework service posts it."""
    body: dict[str, Any] = {
        "type": kind,
        "id": f"act-{uuid.uuid4().hex[:12]}",
        "timestamp": "2026-11-23T12:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user, "name": "Test User", "aadObjectId": str(uuid.uuid4())},
        "conversation": {
            "id": conversation,
            "conversationType": conversation_type,
            "tenantId": tenant,
            **({"isGroup": True} if conversation_type != "personal" else {}),
        },
        "recipient": {"id": BOT_ID, "name": "Wegwijzer"},
        "locale": locale,
        "channelData": {"tenant": {"id": tenant}},
        "entities": entities or [],
    }
    if text is not None:
        body["text"] = text
        body["textFormat"] = "plain"
    if value is not None:
        body["value"] = value
    body.update(extra)
    return body


def mention_of_bot() -> dict[str, Any]:
    return {
        "type": "mention",
        "text": "<at>Wegwijzer</at>",
        "mentioned": {"id": BOT_ID, "name": "Wegwijzer"},
    }
