"""Web chat settings, read once from the environment. Bad values raise ValueError
(the platform turns it into `adapters.SettingsError`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Where "quick exit" goes: a neutral, everyday site (as domestic-violence help sites do).
DEFAULT_EXIT_URL = "https://www.buienradar.nl/"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the web chat needs; defaults suit one replica behind a reverse proxy."""

    port: int
    host: str = "127.0.0.1"
    exit_url: str = DEFAULT_EXIT_URL
    #: Turns one conversation may send per minute before a friendly "slow down".
    per_conversation_per_minute: int = 20
    #: Turns per second for the whole page, across all conversations.
    total_per_second: int = 50
    #: Largest request body read (a form or JSON turn is far smaller).
    max_body: int = 256 * 1024


def _int(env: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{key} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{key} must be between {low} and {high}")
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read `WEGWIJZER_WEB_*`; raise ValueError naming the variable when one is wrong."""
    port = _int(env, "WEGWIJZER_WEB_PORT", 0, 0, 65535)
    if not env.get("WEGWIJZER_WEB_PORT", "").strip():
        raise ValueError("WEGWIJZER_WEB_PORT is not set")
    host = env.get("WEGWIJZER_WEB_HOST", "").strip() or "127.0.0.1"
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"WEGWIJZER_WEB_HOST must be an IP address, not {host!r}") from None
    exit_url = env.get("WEGWIJZER_WEB_EXIT_URL", "").strip() or DEFAULT_EXIT_URL
    parts = urlsplit(exit_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError("WEGWIJZER_WEB_EXIT_URL must be an https:// address")
    return Settings(
        port=port,
        host=host,
        exit_url=exit_url,
        per_conversation_per_minute=_int(env, "WEGWIJZER_WEB_RATE", 20, 1, 10_000),
        total_per_second=_int(env, "WEGWIJZER_WEB_RATE_TOTAL", 50, 1, 100_000),
    )
