"""Which chat platforms exist: one line per platform, imported only when asked for.

Adding a platform: write `adapters/<name>.py` (or a package) exposing `PLATFORM` (see
`adapters/_contract.py`) and add one line to `PLATFORMS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from adapters._contract import Platform

PLATFORMS: dict[str, str] = {
    "console": "adapters.console",
    "matrix": "adapters.matrix",
    "teams": "adapters.teams",
    "web": "adapters.web",
}


def load(name: str) -> Platform:
    """Import the platform `name` and return its `PLATFORM`.

    Raises:
        KeyError: No such platform in the registry.
        ImportError: Its module cannot be imported.
    """
    module = importlib.import_module(PLATFORMS[name])
    platform = getattr(module, "PLATFORM", None)
    if not isinstance(platform, Platform):
        raise TypeError(f"{module.__name__}.PLATFORM does not match adapters.Platform")
    return platform


def configured(env: Mapping[str, str]) -> list[Platform]:
    """The platforms whose `env_switch` is set (non-empty) in `env`, in registry order."""
    out: list[Platform] = []
    for name in PLATFORMS:
        platform = load(name)
        if platform.env_switch and env.get(platform.env_switch, "").strip():
            out.append(platform)
    return out
