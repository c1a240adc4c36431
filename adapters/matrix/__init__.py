"""The Matrix channel: direct chats (end-to-end encrypted or plain) through a homeserver.

Built on matrix-nio with its vodozemac crypto store; every nio import lives in this
package. Where to look:

- `_settings.py`  the settings from the environment, checked once at start
- `_client.py`    logging in once, the sync loop, retries against the homeserver
- `_bot.py`       invites and joins, messages, direct chat or shared room, forgetting
- `_incoming.py`  what a person wrote: reply fallback, HTML, mentions, threads, edits
- `_rooms.py`     direct chat or shared room, decided as Element does, remembered
- `_render.py`    a reply as an `m.notice` with escaped HTML
- `_privacy.py`   the log guard that keeps nio's and peewee's text out of every log

Privacy: nothing a person writes is stored or logged. See docs/matrix.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters._contract import SettingsError
from adapters.matrix._settings import ENV_SWITCH, Settings, load_settings
from bot import Engine

__all__ = ["PLATFORM", "Settings", "SettingsError", "load_settings", "serve"]


async def serve(engine: Engine, env: Mapping[str, str]) -> None:
    """Run the Matrix channel until cancelled.

    Raises:
        SettingsError: A setting is missing or wrong (a ValueError, named by variable).
    """
    settings = load_settings(env)
    from adapters._lease import lease_from_env, run_while_held
    from adapters.matrix._bot import MatrixBot

    # With shared state (several replicas) only the holder of the lease syncs; another
    # replica takes over from the stored sync token when the holder stops renewing, and
    # skips the events its predecessor had claimed after that token.
    lease = lease_from_env(env, "matrix-sync")
    if lease is None:
        await MatrixBot(engine, settings).run()
    else:
        claim = lease.claim
        await run_while_held(lease, lambda: MatrixBot(engine, settings, claim=claim).run())


@dataclass(frozen=True, slots=True)
class _Platform:
    """The Matrix platform (the contract is adapters/_contract.py)."""

    name: str = "matrix"
    env_switch: str = ENV_SWITCH

    def check(self, env: Mapping[str, str]) -> None:
        """Raise SettingsError naming the variable when a setting is missing or wrong."""
        load_settings(env)

    async def serve(self, engine: Engine, env: Mapping[str, str]) -> None:
        await serve(engine, env)


PLATFORM = _Platform()
