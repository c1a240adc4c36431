"""The aiohttp endpoint: checks, authentication, and a botbuilder turn per activity.

What runs where:
- here, before any turn: size (413), content type (415), the JWT (401, `_auth.py`),
  JSON and activity shape (400), channel endorsement and service-URL claim (401),
  allowed service URL and tenant (403);
- botbuilder: the activity model (`Activity`), `TurnContext`, the middleware pipeline
  and `ActivityHandler` dispatch (message, conversationUpdate, invoke) to the handler in
  `_handler.py`, which reads each activity with `_inbound.py`;
- `_outbound.py`: the replies, over one shared aiohttp session (botbuilder's msrest
  connector client is rebuilt per turn and costs ~25 ms of CPU each time).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import aiohttp
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.bot_adapter import BotAdapter
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ConversationReference,
    ResourceResponse,
)
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
)
from msrest.serialization import Model

from adapters.teams._auth import (
    AuthError,
    KeysUnavailable,
    OpenIdKeys,
    TokenValidator,
    Verified,
    check_activity,
)
from adapters.teams._handler import REPLY_LOCALE, WegwijzerHandler
from adapters.teams._inbound import tenant
from adapters.teams._outbound import Outbound, OutboundError, RefusedServiceUrl
from adapters.teams._settings import Settings
from bot import Engine

log = logging.getLogger("adapters.teams")

#: Largest request body read; Teams activities are a few kB (messages up to ~28 kB).
MAX_BODY = 1024 * 1024
#: Channels accepted: Teams; the Bot Framework Emulator only without authentication.
CHANNELS_SECURE = frozenset({"msteams"})
CHANNELS_INSECURE = frozenset({"msteams", "emulator"})


@dataclass
class Runtime:
    """Per-app state that lives as long as the shared HTTP session."""

    settings: Settings
    engine: Engine
    session: aiohttp.ClientSession
    outbound: Outbound
    validator: TokenValidator | None
    adapter: TeamsAdapter
    handler: WegwijzerHandler


SETTINGS = web.AppKey("teams_settings", Settings)
ENGINE = web.AppKey("teams_engine", Engine)
RUNTIME = web.AppKey("teams_runtime", Runtime)


class _NoAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """CloudAdapter wants one; authentication happens in `_auth.py` before the turn."""

    async def authenticate_request(self, activity: Activity, auth_header: str) -> Any:
        raise PermissionError("authenticated by the Wegwijzer endpoint")

    async def authenticate_streaming_request(self, auth_header: str, channel_id: str) -> Any:
        raise PermissionError("streaming is not supported")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> Any:
        raise PermissionError("replies go through the shared session")

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        return None


class TeamsAdapter(CloudAdapter):  # type: ignore[misc]
    """botbuilder's CloudAdapter with its transport replaced by `Outbound`.

    Turns run through botbuilder's pipeline (`run_pipeline`); sending, updating and
    deleting activities use the shared aiohttp session instead of a per-turn msrest
    ConnectorClient.
    """

    def __init__(self, outbound: Outbound) -> None:
        super().__init__(_NoAuthentication())
        self.outbound = outbound

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses: list[ResourceResponse] = []
        for activity in activities:
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
                responses.append(ResourceResponse(id=""))
                continue
            if activity.type == ActivityTypes.trace:
                responses.append(ResourceResponse(id=""))
                continue
            activity.id = None
            # botbuilder copies the incoming locale onto every reply; the reply's own
            # language is what the handler put in the turn state.
            locale = context.turn_state.get(REPLY_LOCALE)
            if isinstance(locale, str):
                activity.locale = locale
            data = await self.outbound.send(
                activity.service_url,
                activity.conversation.id,
                activity.reply_to_id,
                _serialize(activity),
            )
            responses.append(ResourceResponse(id=str(data.get("id", ""))))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> Any:
        conv = activity.conversation.id
        path = f"v3/conversations/{_q(conv)}/activities/{_q(activity.id)}"
        data = await self.outbound.request("PUT", activity.service_url, path, _serialize(activity))
        return ResourceResponse(id=str(data.get("id", activity.id)))

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        conv = reference.conversation.id
        path = f"v3/conversations/{_q(conv)}/activities/{_q(reference.activity_id)}"
        await self.outbound.request("DELETE", reference.service_url, path)


def _serialize(activity: Activity) -> dict[str, Any]:
    """The activity's wire JSON: what msrest writes, plus the fields it kept aside.

    msrest's serializer validates every attribute of every model on the way and walks a
    card's nested dicts (~0.4 ms plus ~1.5 ms per card, the endpoint's largest cost after
    the engine). For activities without timestamps (all this adapter sends) the same
    attribute maps are walked directly. Unlike msrest, fields it did not recognise when
    reading (kept in `additional_properties`, e.g. Teams' `conversation.tenantId`) are
    written back. A test checks every field msrest writes comes out the same.
    """
    if activity.timestamp or activity.local_timestamp or activity.expiration:
        return cast(dict[str, Any], activity.serialize())
    return cast(dict[str, Any], _to_json(activity))


def _to_json(value: Any) -> Any:
    if isinstance(value, Model):
        out: dict[str, Any] = {}
        for attr, info in value._attribute_map.items():
            item = getattr(value, attr, None)
            if item is not None and attr != "additional_properties":
                out[info["key"]] = _to_json(item)
        extra = getattr(value, "additional_properties", None)
        if extra:
            out.update({k: _to_json(v) for k, v in extra.items()})
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


def _q(value: str) -> str:
    return quote(value or "", safe="")


def _refuse(status: HTTPStatus, reason: str) -> web.Response:
    # The reason is fixed text chosen here: never request content, never token content.
    log.info("request refused (%d): %s", status, reason)
    response = web.json_response({"error": reason}, status=status)
    response.force_close()  # no keep-alive after a refusal
    return response


def _parse_activity(raw: bytes) -> Activity | str:
    """The activity, or the reason it is malformed."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "body is not JSON"
    if not isinstance(body, dict):
        return "body is not a JSON object"
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        return "activity has no type"
    conv = body.get("conversation")
    if not isinstance(conv, dict) or not isinstance(conv.get("id"), str) or not conv["id"]:
        return "activity has no conversation id"
    for name in ("serviceUrl", "channelId"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"activity has no {name}"
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not isinstance(recipient.get("id"), str):
        return "activity has no recipient"
    for name in ("text", "locale"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"activity {name} is not a string"
    if body.get("entities") is not None and not isinstance(body["entities"], list):
        return "activity entities is not a list"
    try:
        activity = Activity().deserialize(body)
    except Exception:  # msrest raises several types for wrongly shaped fields
        return "activity does not fit the Bot Framework schema"
    return activity


async def messages(request: web.Request) -> web.StreamResponse:
    """POST /api/messages: one Bot Framework activity."""
    rt = request.app[RUNTIME]
    settings = rt.settings
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over 1 MiB")
    if request.content_type != "application/json":
        return _refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "expected application/json")
    verified: Verified | None = None
    if rt.validator is not None:
        try:
            verified = await rt.validator.verify(request.headers.get("Authorization"))
        except AuthError as exc:
            return _refuse(HTTPStatus.UNAUTHORIZED, exc.reason)
        except KeysUnavailable:
            return _refuse(HTTPStatus.SERVICE_UNAVAILABLE, "signing keys unavailable")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over 1 MiB")
    parsed = _parse_activity(raw)
    if isinstance(parsed, str):
        return _refuse(HTTPStatus.BAD_REQUEST, parsed)
    activity = parsed
    channels = CHANNELS_INSECURE if settings.insecure else CHANNELS_SECURE
    if verified is not None:
        try:
            check_activity(verified, activity.channel_id, activity.service_url)
        except AuthError as exc:
            return _refuse(HTTPStatus.UNAUTHORIZED, exc.reason)
    if activity.channel_id not in channels:
        return _refuse(HTTPStatus.FORBIDDEN, "channel not served")
    if not settings.service_url_allowed(activity.service_url):
        return _refuse(HTTPStatus.FORBIDDEN, "service URL not allowed")
    if settings.tenants and tenant(activity) not in settings.tenants:
        return _refuse(HTTPStatus.FORBIDDEN, "tenant not allowed")
    return await _run_turn(rt, activity, verified)


async def _run_turn(rt: Runtime, activity: Activity, verified: Verified | None) -> web.Response:
    claims = dict(verified.claims) if verified is not None else {}
    claims.setdefault(AuthenticationConstants.AUDIENCE_CLAIM, rt.settings.app_id)
    identity = ClaimsIdentity(claims, is_authenticated=verified is not None)
    context = TurnContext(rt.adapter, activity)
    context.turn_state[BotAdapter.BOT_IDENTITY_KEY] = identity
    try:
        await rt.adapter.run_pipeline(context, rt.handler.on_turn)
    except RefusedServiceUrl:
        return _refuse(HTTPStatus.FORBIDDEN, "service URL not allowed")
    except OutboundError as exc:
        log.warning("reply not delivered (connector status %s)", exc.status)
        return web.json_response({"error": "reply not delivered"}, status=HTTPStatus.BAD_GATEWAY)
    except Exception:
        # The privacy filter keeps the traceback's code locations and drops its messages.
        log.exception("turn failed")
        return web.json_response({"error": "internal error"}, status=500)
    invoke = context.turn_state.get(rt.adapter._INVOKE_RESPONSE_KEY)
    if activity.type == ActivityTypes.invoke:
        value = getattr(invoke, "value", None)
        if isinstance(value, InvokeResponse):
            return _invoke_response(value)
        return web.Response(status=HTTPStatus.NOT_IMPLEMENTED)
    return web.Response(status=HTTPStatus.OK)


def _invoke_response(value: InvokeResponse) -> web.Response:
    status = value.status or 200
    body = value.body
    if body is None:
        return web.Response(status=status)
    try:
        data = body.as_dict() if hasattr(body, "as_dict") else serializer_helper(body)
        return web.json_response(data, status=status)
    except Exception:  # botbuilder cannot serialise some of its own invoke bodies
        return web.Response(status=status)


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: the process answers and has a knowledge base."""
    engine = request.app[ENGINE]
    return web.json_response({"status": "ok", "entries": len(engine.kb.entries)})


async def _runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, engine = app[SETTINGS], app[ENGINE]
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=100),
        timeout=aiohttp.ClientTimeout(total=20),
    )

    async def fetch_json(url: str) -> Any:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
            response.raise_for_status()
            return await response.json(content_type=None)

    validator = None
    if not settings.insecure:
        keys = OpenIdKeys(settings.openid_url, fetch_json)
        validator = TokenValidator(keys, settings.app_id, settings.issuers)
    outbound = Outbound(session, settings)
    app[RUNTIME] = Runtime(
        settings=settings,
        engine=engine,
        session=session,
        outbound=outbound,
        validator=validator,
        adapter=TeamsAdapter(outbound),
        handler=WegwijzerHandler(engine, settings),
    )
    try:
        yield
    finally:
        await session.close()


def create_app(engine: Engine, settings: Settings) -> web.Application:
    """The aiohttp application: POST /api/messages and GET /healthz."""
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[ENGINE] = engine
    app.cleanup_ctx.append(_runtime_ctx)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


async def start(engine: Engine, settings: Settings) -> tuple[web.AppRunner, int]:
    """Start the endpoint; returns the runner (call `cleanup()`) and the bound port."""
    runner = web.AppRunner(
        create_app(engine, settings),
        access_log=None,  # it would record IP addresses and user agents
        handle_signals=False,
        # After a refused body, read and drop at most 1 s of the rest (aiohttp: 10 s).
        lingering_time=1.0,
        shutdown_timeout=10.0,
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    server = cast(Any, site._server)
    port = int(server.sockets[0].getsockname()[1]) if server and server.sockets else settings.port
    return runner, port
