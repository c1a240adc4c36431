"""The workbench's aiohttp application.

Routes:
- `GET /`: overview (problems with the offending lines, counts, reviews, dangling references).
- `GET /entry/{id}?lang=nl|en&details=0|1`: the entry as each channel shows it.
- `GET /try`, `POST /try`: try a question (a POST, so the question never lands in a URL,
  the browser history or a log).
- `GET /sets?file=...`: `kb test` on a question file of knowledge/tests/.
- `GET /events`: server-sent events, one per change of the knowledge folder.
- `GET /static/...` and `GET /vendor/adaptivecards.js` (from node_modules, when installed).
Nothing here logs a request or what was typed; aiohttp's access log is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web
from yarl import URL

from bot import Engine, Lang
from workbench import _questions as questions
from workbench import _views as views
from workbench._state import Workbench

log = logging.getLogger("workbench")

HERE = Path(__file__).parent
STATIC = HERE / "static"
#: The Adaptive Cards renderer as npm installs it (`make workbench-assets`); never committed.
ADAPTIVECARDS_JS = HERE / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"
_STATIC_TYPES = {
    "workbench.js": "text/javascript; charset=utf-8",
    "workbench.css": "text/css; charset=utf-8",
}
MAX_QUESTION_CHARS = 4000
#: Seconds between keep-alive comments on the event stream.
KEEPALIVE_SECONDS = 15.0

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}

WORKBENCH = web.AppKey("workbench", Workbench)
#: Host names the page answers to; empty when it listens beyond this computer.
LOOPBACK_ONLY = web.AppKey("loopback_only", bool)
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _lang(value: str | None) -> Lang:
    return "en" if value == "en" else "nl"


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every answer; an unexpected error is a plain 500, never a crash."""
    first = request.headers.get("Accept-Language", "")[:2].lower()
    token = views.UI_LANG.set("nl" if first == "nl" else "en")
    try:
        # On loopback, a page from another site must not reach the workbench through a
        # name that resolves here (DNS rebinding): only its own address is answered.
        if request.app[LOOPBACK_ONLY] and URL(f"http://{request.host}").host not in _LOOPBACK_NAMES:
            raise web.HTTPMisdirectedRequest(text=views.wording("bad_host", views.UI_LANG.get()))
        response = await handler(request)
    except web.HTTPException as exc:
        response = web.Response(status=exc.status, text=exc.text, headers=exc.headers)
    except Exception as exc:
        log.error("workbench request failed: %s", type(exc).__name__)
        response = web.Response(status=500, text="internal error")
    finally:
        views.UI_LANG.reset(token)
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Language"] = "nl" if first == "nl" else "en"
    return response


def _page(request: web.Request, title: str, body: str, current: str) -> web.Response:
    wb = request.app[WORKBENCH]
    text = views.layout(wb.snapshot, wb.root, title, body, current=current)
    return web.Response(text=text, content_type="text/html", charset="utf-8")


async def overview(request: web.Request) -> web.Response:
    wb = request.app[WORKBENCH]
    body = await asyncio.to_thread(views.overview, wb.snapshot, wb.root)
    return _page(request, views.w("nav_overview"), body, "nav_overview")


def _previews(engine: Engine, entry_id: str, lang: Lang, details: bool) -> dict[str, str]:
    # The adapters' own renderers, imported here: a tool may know the adapters, bot/ not.
    from adapters.console import render as console_render
    from adapters.matrix._render import render_html
    from adapters.teams._cards import CardOptions, render_card
    from adapters.web._render import render_reply

    reply = views.entry_reply(engine, entry_id, lang, details)
    toggle = (
        engine.kb.text("teams_details_show", lang)
        if "teams_details_show" in engine.kb.texts
        else ""
    )
    card = render_card(reply, CardOptions(details_toggle=toggle))
    return {
        "console": console_render(reply, color=False),
        "matrix": render_html(reply),
        "teams": views.card_json(card),
        "teams_renderer": "yes" if ADAPTIVECARDS_JS.is_file() else "no",
        "web": render_reply(reply, "workbench"),
    }


async def entry(request: web.Request) -> web.Response:
    wb = request.app[WORKBENCH]
    engine = wb.snapshot.engine
    entry_id = request.match_info["id"]
    found = engine.kb.by_id.get(entry_id) if engine is not None else None
    if engine is None or found is None:
        body = f'<p class="status bad">{views.w("entry_not_found", id=entry_id)}</p>'
        return _page(request, entry_id, body, "nav_overview")
    lang = _lang(request.query.get("lang"))
    details = request.query.get("details") == "1"
    texts = await asyncio.to_thread(_previews, engine, entry_id, lang, details)
    body = views.entry_view(engine, found, lang, details, texts)
    return _page(request, f"{found.text(lang).title} ({entry_id})", body, "nav_overview")


async def try_page(request: web.Request) -> web.Response:
    wb = request.app[WORKBENCH]
    question, lang_choice, compare = "", "auto", ""
    result = ""
    if request.method == "POST":
        data = await request.post()
        raw_q, raw_lang = data.get("q"), data.get("lang")
        question = raw_q[:MAX_QUESTION_CHARS] if isinstance(raw_q, str) else ""
        lang_choice = raw_lang if raw_lang in ("nl", "en") else "auto"
        raw_compare = data.get("compare")
        compare = raw_compare.strip()[:200] if isinstance(raw_compare, str) else ""
        engine = wb.snapshot.engine
        if engine is None:
            result = f'<p class="status bad">{views.w("no_engine")}</p>'
        elif question.strip():
            lang: Lang | None = None if lang_choice == "auto" else _lang(lang_choice)
            result = await asyncio.to_thread(questions.try_result, engine, question, lang, compare)
    engine = wb.snapshot.engine
    ids = [e.id for e in engine.kb.entries] if engine is not None else []
    body = questions.try_form(question, lang_choice, compare, ids) + result
    return _page(request, views.w("nav_try"), body, "nav_try")


async def sets(request: web.Request) -> web.Response:
    wb = request.app[WORKBENCH]
    chosen = request.query.get("file", "")
    body = questions.sets_list(wb.root, chosen)
    if chosen:
        engine = wb.snapshot.engine
        # Only a file the list offers: no path from the request reaches the file system.
        if chosen not in questions.question_files(wb.root):
            body += f'<p class="status bad">{views.w("set_unknown")}</p>'
        elif engine is None:
            body += f'<p class="status bad">{views.w("no_engine")}</p>'
        else:
            path = wb.root / "tests" / chosen
            shown = f"{wb.root.name}/tests/{chosen}"
            body += await asyncio.to_thread(questions.sets_result, engine, path, shown)
    return _page(request, views.w("nav_sets"), body, "nav_sets")


async def events(request: web.Request) -> web.StreamResponse:
    wb = request.app[WORKBENCH]
    response = web.StreamResponse(headers={**SECURITY_HEADERS, "Content-Type": "text/event-stream"})
    await response.prepare(request)
    queue = wb.listen()
    try:
        # The current version first: a page loaded just before a change reloads at once.
        await response.write(f"retry: 1000\ndata: {wb.snapshot.version}\n\n".encode())
        while True:
            try:
                version = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            await response.write(f"data: {version}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        wb.unlisten(queue)
    return response


async def static(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in _STATIC_TYPES:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name, headers={"Content-Type": _STATIC_TYPES[name]})


async def adaptivecards(request: web.Request) -> web.FileResponse:
    if not ADAPTIVECARDS_JS.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(
        ADAPTIVECARDS_JS, headers={"Content-Type": "text/javascript; charset=utf-8"}
    )


def build_app(wb: Workbench, *, loopback_only: bool = True) -> web.Application:
    app = web.Application(middlewares=[_headers], client_max_size=64 * 1024)
    app[WORKBENCH] = wb
    app[LOOPBACK_ONLY] = loopback_only
    app.router.add_get("/", overview)
    app.router.add_get("/entry/{id}", entry)
    app.router.add_get("/try", try_page)
    app.router.add_post("/try", try_page)
    app.router.add_get("/sets", sets)
    app.router.add_get("/events", events)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/vendor/adaptivecards.js", adaptivecards)

    async def watcher(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(wb.watch())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(watcher)
    return app


async def start(wb: Workbench, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (call `cleanup()` to stop) and the port bound."""
    from workbench import is_loopback

    app = build_app(wb, loopback_only=is_loopback(host))
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, int(bound)
