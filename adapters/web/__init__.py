"""The anonymous web chat (aiohttp): a page people open on their own phone, no login.

`GET /` serves the chat; it works as a plain HTML form (the server renders the last
turn) and, with JavaScript, as a live chat over `POST /api/turn`. The conversation
token lives only in the page: closing the tab forgets everything. See docs/web.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from adapters._contract import SettingsError
from bot import Engine

log = logging.getLogger("adapters.web")

__all__ = ["PLATFORM", "WebPlatform"]


@dataclass(frozen=True)
class WebPlatform:
    """The web chat as a platform: switched on by `WEGWIJZER_WEB_PORT`."""

    name: str = "web"
    env_switch: str = "WEGWIJZER_WEB_PORT"

    def check(self, env: Mapping[str, str]) -> None:
        """Raise SettingsError naming the variable when a web setting is wrong."""
        from adapters.web._settings import load_settings

        try:
            load_settings(env)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    async def serve(self, engine: Engine, env: Mapping[str, str]) -> None:
        """Serve the page until cancelled."""
        from adapters.web._app import start
        from adapters.web._settings import load_settings

        try:
            settings = load_settings(env)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        runner, port = await start(engine, settings)
        log.info("web chat listening on http://%s:%d/", settings.host, port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


PLATFORM = WebPlatform()


async def serve(engine: Engine, env: Mapping[str, str]) -> None:
    """Serve the web chat (the module-level form `bot.cli` calls)."""
    await PLATFORM.serve(engine, env)
