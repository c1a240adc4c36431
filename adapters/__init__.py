"""Chat-platform adapters. Each turns platform events into `bot.Message`, awaits
`bot.Engine.handle`, and renders the `bot.Reply` sections in its platform's own idiom.

Every platform exposes `PLATFORM` (the `Platform` contract in `adapters/_contract.py`) and
has one line in `adapters/_registry.py`. Platform SDK imports stay inside their own module,
so a platform is swapped in one place; `bot/` never names an adapter.
"""

from adapters._contract import Platform, SettingsError
from adapters._registry import PLATFORMS, configured, load

__all__ = ["PLATFORMS", "Platform", "SettingsError", "configured", "load"]
