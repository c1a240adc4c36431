"""The aiohttp application: the page, the form, the JSON turn, static files, headers.

Routes:
- `GET /`: a fresh page with a new conversation token and the welcome.
- `POST /`: the page without JavaScript (a form post); shows the last turn.
- `POST /api/turn`: `{"token", "text" | "action", "lang"}` -> `{"html", "lang", "ui"?}`.
- `POST /api/forget`: `{"token"}`: drops the conversation at once (quick exit).
- `GET /static/...`, `GET /healthz`.
Nothing here logs a request, an address or a message; aiohttp's access log is off.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.web._limits import RateLimiter
from adapters.web._render import (
    PAGE_TEXTS,
    esc,
    render_page,
    render_person,
    render_reply,
)
from adapters.web._settings import Settings
from bot import Engine, Lang, Message, Reply, ReplyKind, conversation_key, rate_limited

log = logging.getLogger("adapters.web")

STATIC = Path(__file__).with_name("static")
_STATIC_TYPES = {
    "chat.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
MAX_ACTION_CHARS = 200

#: Strict by design: only this origin, no inline script, no framing, no plugins.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass
class Runtime:
    engine: Engine
    settings: Settings
    limiter: RateLimiter

    def text(self, key: str, lang: Lang) -> str:
        return self.engine.kb.text(key, lang)


RUNTIME = web.AppKey("runtime", Runtime)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _lang(value: object, default: Lang = "nl") -> Lang:
    return "en" if value == "en" else "nl" if value == "nl" else default


def _accept_lang(request: web.Request) -> Lang:
    first = request.headers.get("Accept-Language", "")[:2].lower()
    return "en" if first == "en" else "nl"


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every answer; unexpected errors become a plain 500 (no details)."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        # A plain response: aiohttp no longer sends exception objects as answers.
        response = web.Response(status=exc.status, body=exc.body, headers=exc.headers)
    except Exception as exc:  # a turn must never crash the server
        log.error("web request failed: %s", type(exc).__name__)
        response = web.json_response({"error": "internal error"}, status=500)
    response.headers.update(SECURITY_HEADERS)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


async def _turn(rt: Runtime, token: str, text: str, action: str | None, lang: Lang) -> Reply | str:
    """Run one turn; a string is the friendly "slow down" when a limit was hit."""
    key = conversation_key("web", token)
    allowed, which = rt.limiter.allow(key)
    if not allowed:
        rate_limited("web")
        return rt.text("web_rate_limited" if which == "conversation" else "web_busy", lang)
    reply = await rt.engine.handle(
        Message(conversation=key, text=text, action=action, lang_hint=lang)
    )
    if reply.kind is ReplyKind.FORGOTTEN:
        rt.limiter.forget(key)
    return reply


def _notice_html(text: str, lang: Lang) -> str:
    return f'<article class="turn bot info" lang="{lang}"><p>{esc(text)}</p></article>'


def _fields(data: Any) -> tuple[str, str | None, Lang] | None:
    """(text, action, lang) from a JSON or form body; None when malformed."""
    text = data.get("text", "")
    action = data.get("action") or None
    if not isinstance(text, str) or (action is not None and not isinstance(action, str)):
        return None
    if action is not None and (len(action) > MAX_ACTION_CHARS or not action.isprintable()):
        return None
    return text, action, _lang(data.get("lang"))


async def page(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    lang = _lang(request.query.get("lang"), _accept_lang(request))
    token = new_token()
    turns = [render_reply(rt.engine.welcome(lang), token)]
    body = render_page(
        lang=lang, token=token, turns=turns, texts=rt.text, exit_url=rt.settings.exit_url
    )
    return web.Response(text=body, content_type="text/html", charset="utf-8")


async def form_post(request: web.Request) -> web.Response:
    """The page without JavaScript: the last question and its answer, rendered here."""
    rt = request.app[RUNTIME]
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise web.HTTPUnsupportedMediaType(text="form posts only")
    form = await request.post()
    fields = _fields({k: v for k, v in form.items() if isinstance(v, str)})
    token = str(form.get("token", ""))
    if not _TOKEN.match(token):
        token = new_token()
    if fields is None:
        text, action, lang = "", None, _lang(form.get("lang"))
        result: Reply | str = rt.text("web_bad_request", lang)
    else:
        text, action, lang = fields
        result = await _turn(rt, token, text, action, lang)
    turns: list[str] = []
    if text.strip() and not action:
        turns.append(render_person(text.strip()[:4000], rt.text, lang))
    if isinstance(result, str):
        turns.append(_notice_html(result, lang))
        status = 429 if fields is not None else 400
    else:
        lang = result.lang
        turns.append(render_reply(result, token))
        status = 200
    body = render_page(
        lang=lang, token=token, turns=turns, texts=rt.text, exit_url=rt.settings.exit_url
    )
    return web.Response(text=body, content_type="text/html", charset="utf-8", status=status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "send application/json"}), content_type="application/json"
        )
    try:
        data = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body must be a JSON object"}),
            content_type="application/json",
        )
    return data


async def api_turn(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    data = await _json_body(request)
    token = data.get("token")
    fields = _fields(data)
    if not isinstance(token, str) or not _TOKEN.match(token) or fields is None:
        lang = _lang(data.get("lang"))
        return web.json_response(
            {"error": "bad request", "html": _notice_html(rt.text("web_bad_request", lang), lang)},
            status=400,
        )
    text, action, lang = fields
    result = await _turn(rt, token, text, action, lang)
    if isinstance(result, str):
        return web.json_response({"html": _notice_html(result, lang), "lang": lang}, status=429)
    out: dict[str, Any] = {"html": render_reply(result, token), "lang": result.lang}
    if result.lang != lang:
        out["ui"] = {key: rt.text(key, result.lang) for key in PAGE_TEXTS}
    return web.json_response(out)


async def api_forget(request: web.Request) -> web.Response:
    """Quick exit: drop the conversation now (sent with navigator.sendBeacon)."""
    rt = request.app[RUNTIME]
    try:
        data = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        data = None
    token = data.get("token") if isinstance(data, dict) else None
    if isinstance(token, str) and _TOKEN.match(token):
        key = conversation_key("web", token)
        rt.engine.forget(key)
        rt.limiter.forget(key)
    return web.Response(status=204)


async def static(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in _STATIC_TYPES:
        raise web.HTTPNotFound()
    return web.FileResponse(
        STATIC / name,
        headers={"Content-Type": _STATIC_TYPES[name], "Cache-Control": "public, max-age=3600"},
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def favicon(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/static/icon.svg")


def build_app(engine: Engine, settings: Settings) -> web.Application:
    """The web chat application (also used by the tests and the benchmark)."""
    missing = [k for k in PAGE_TEXTS if k not in engine.kb.texts]
    if missing:
        raise ValueError(f"knowledge/texts.yaml lacks the web texts: {', '.join(missing)}")
    app = web.Application(client_max_size=settings.max_body, middlewares=[_headers])
    app[RUNTIME] = Runtime(
        engine,
        settings,
        RateLimiter(settings.per_conversation_per_minute, settings.total_per_second),
    )
    app.router.add_get("/", page)
    app.router.add_post("/", form_post)
    app.router.add_post("/api/turn", api_turn)
    app.router.add_post("/api/forget", api_forget)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/healthz", healthz)
    return app


async def start(engine: Engine, settings: Settings) -> tuple[web.AppRunner, int]:
    """Start listening; returns the runner and the bound port (for port 0 in tests)."""
    runner = web.AppRunner(build_app(engine, settings), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    port = sockets[0].getsockname()[1] if sockets else settings.port
    return runner, port
