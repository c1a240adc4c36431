"""The one shape every chat platform has, so `bot/` and the CLI never name an adapter.

A platform is a module or package under `adapters/` that exposes `PLATFORM`, an object
matching `Platform`, and has one line in `adapters/_registry.py`. Its top level must import
without its platform SDK (SDK imports go inside `serve`), because the registry imports every
platform module to read its `env_switch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from bot import Engine


class SettingsError(ValueError):
    """A platform's settings are missing or wrong; the message names the variable.

    A ValueError, so code written against the older contract ("raise ValueError for bad
    settings") keeps working.
    """


@runtime_checkable
class Platform(Protocol):
    """One chat platform.

    Attributes:
        name: Short id used in logs and in the registry ("console", "matrix", "teams").
        env_switch: The environment variable whose presence switches the platform on
            (e.g. "WEGWIJZER_MATRIX_HOMESERVER"); "" for the console, which runs when no
            other platform is configured.
    """

    # Read-only properties, so frozen dataclasses and plain classes both match.
    @property
    def name(self) -> str: ...

    @property
    def env_switch(self) -> str: ...

    def check(self, env: Mapping[str, str]) -> None:
        """Validate the settings without connecting anywhere.

        Raises:
            SettingsError: A setting is missing or wrong; the message names the variable.
        """

    async def serve(self, engine: Engine, env: Mapping[str, str]) -> None:
        """Run the platform until cancelled, answering every message with `engine`.

        Raises:
            SettingsError: A setting is missing or wrong.
        """
