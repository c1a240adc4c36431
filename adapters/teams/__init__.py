"""The Microsoft Teams channel (botbuilder-python). Every botbuilder import lives here.

`PLATFORM` is the channel for the registry (adapters/_registry.py): `PLATFORM.serve` runs
`POST /api/messages` and `GET /healthz`; `build_package` writes the Teams app package.
This module imports without botbuilder (its imports sit in the functions).
botbuilder-python 4.17.1 is its final release: swapping it for its successor touches only
this package. See docs/teams.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import Engine

log = logging.getLogger("adapters.teams")

__all__ = ["PLATFORM", "build_package", "serve"]


@dataclass(frozen=True, slots=True)
class TeamsPlatform:
    """The Teams channel in the shape of the shared platform contract."""

    name: str = "teams"
    env_switch: str = "WEGWIJZER_TEAMS_PORT"

    def check(self, env: Mapping[str, str]) -> None:
        """Check the settings without opening a port or connecting anywhere.

        Raises:
            SettingsError: A setting is missing or wrong; the message names it.
        """
        from adapters.teams._settings import load_settings

        load_settings(env)

    async def serve(self, engine: Engine, env: Mapping[str, str]) -> None:
        """Serve the Teams endpoint until cancelled (see `serve`)."""
        await serve(engine, env)


PLATFORM = TeamsPlatform()


async def serve(engine: Engine, env: Mapping[str, str]) -> None:
    """Serve the Teams endpoint until cancelled.

    Raises:
        SettingsError: A setting is missing or wrong (a ValueError).
    """
    from adapters.teams._app import start
    from adapters.teams._settings import load_settings

    settings = load_settings(env)
    if settings.insecure:
        log.warning(
            "!!! WEGWIJZER_TEAMS_INSECURE_NO_AUTH=1: requests are NOT authenticated. Anyone "
            "who can reach this port can talk to the bot. Replies go only to loopback "
            "service URLs. For local testing with the Bot Framework Emulator only: NEVER in "
            "production. !!!"
        )
    runner, port = await start(engine, settings)
    log.info("Teams endpoint listening on http://%s:%d/api/messages", settings.host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def build_package(out_dir: Path, env: Mapping[str, str]) -> Path:
    """Write the Teams app package (manifest.json, icons, English strings) as a zip.

    Raises:
        ValueError: A setting the manifest needs is missing or wrong.
    """
    from adapters.teams._package import build

    return build(out_dir, env)
