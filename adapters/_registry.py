"""Which chat platforms exist: one line per platform, imported only when asked for.

Adding a platform: write `adapters/<name>.py` (or a package) exposing `PLATFORM` (see
`adapters/_contract.py`) and add one line to `PLATFORMS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

from adapters._contract import Platform, SettingsError
from bot import Engine

PLATFORMS: dict[str, str] = {
    "console": "adapters.console",
    "matrix": "adapters.matrix",
    "teams": "adapters.teams",
}

#: The switch of platforms whose module does not (yet) export `PLATFORM`; see `_Legacy`.
_LEGACY_SWITCHES: dict[str, str] = {
    "matrix": "WEGWIJZER_MATRIX_HOMESERVER",
    "teams": "WEGWIJZER_TEAMS_PORT",
}


def load(name: str) -> Platform:
    """Import the platform `name` and return its `PLATFORM`.

    Raises:
        KeyError: No such platform in the registry.
        ImportError: Its module (or its SDK) cannot be imported.
    """
    module = importlib.import_module(PLATFORMS[name])
    platform = getattr(module, "PLATFORM", None)
    if platform is None:
        return _Legacy(name, _LEGACY_SWITCHES.get(name, ""), module)
    if not isinstance(platform, Platform):
        raise TypeError(f"{module.__name__}.PLATFORM does not match adapters.Platform")
    return platform


def configured(env: Mapping[str, str]) -> list[Platform]:
    """The platforms whose `env_switch` is set (non-empty) in `env`, in registry order.

    Raises:
        ImportError: A configured platform's module (or its SDK) cannot be imported.
    """
    out: list[Platform] = []
    for name in PLATFORMS:
        try:
            platform = load(name)
        except ImportError:
            # An older module imports its SDK at the top, so without the SDK it cannot
            # tell its switch: only an error when that platform was asked for.
            switch = _LEGACY_SWITCHES.get(name)
            if switch is None or env.get(switch, "").strip():
                raise
            continue
        if platform.env_switch and env.get(platform.env_switch, "").strip():
            out.append(platform)
    return out


@dataclass(frozen=True, slots=True)
class _Legacy:
    """A platform module written against the older contract: a module-level
    `serve(engine, env)` that raises ValueError for bad settings, and (optionally) a
    `load_settings(env)` in the module or its `_settings` submodule. Kept until every
    adapter exports `PLATFORM`."""

    name: str
    env_switch: str
    module: ModuleType

    def check(self, env: Mapping[str, str]) -> None:
        loader = getattr(self.module, "load_settings", None)
        if loader is None and hasattr(self.module, "__path__"):
            try:
                sub = importlib.import_module(f"{self.module.__name__}._settings")
            except ImportError:
                sub = None
            loader = getattr(sub, "load_settings", None)
        if loader is None:
            return
        try:
            cast(Callable[[Mapping[str, str]], Any], loader)(env)
        except SettingsError:
            raise
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    async def serve(self, engine: Engine, env: Mapping[str, str]) -> None:
        serve = cast(Callable[[Engine, Mapping[str, str]], Awaitable[None]], self.module.serve)
        try:
            await serve(engine, env)
        except SettingsError:
            raise
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
