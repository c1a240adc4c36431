"""The bot's device: logging in once, the sync loop, and every call to the homeserver
with retries.

The sync token is kept by nio's store and saved *after* the events of a sync are
handled, so a replica that dies mid-sync leaves them to the next one; with several
replicas, a claim per event in Redis (adapters/_lease.py) keeps it from answering one
twice. Rate limits and connection errors are retried here with the shared backoff;
`M_LIMIT_EXCEEDED` waits the `retry_after_ms` the homeserver gave.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import aiohttp

# matrix-nio ships no type information.
from nio import (
    AsyncClient,
    AsyncClientConfig,
    DirectRoomsResponse,
    ErrorResponse,
    JoinedMembersResponse,
    LoginResponse,
    RoomMessagesResponse,
    SyncResponse,
    WhoamiResponse,
)

from adapters._backoff import backoff_delay
from adapters._contract import SettingsError
from adapters.matrix._settings import Settings
from bot import homeserver_error, rate_limited

log = logging.getLogger("adapters.matrix")

T = TypeVar("T")

#: How far back `vergeet` looks for the bot's own messages: pages of 100 events.
_FORGET_PAGES = 20
_SYNC_FILTER = {
    "room": {"timeline": {"limit": 50}, "state": {"lazy_load_members": False}},
    "presence": {"types": []},
}


class SyncHandler(Protocol):
    """What the sync loop hands each sync to."""

    async def after_sync(self, resp: SyncResponse, catch_up: bool) -> None: ...

    def wake_in(self) -> float | None:
        """Seconds until the handler has work of its own (a retry), or None."""
        ...


def describe(resp: object) -> str:
    """A failed call, by status code or exception type only (never a message text)."""
    if isinstance(resp, ErrorResponse):
        return f"homeserver said {resp.status_code}"
    return type(resp).__name__


class Connection:
    """One logged-in bot device; never logs out (that would destroy the keys)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.user_id = settings.user_id
        self._client: AsyncClient | None = None

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise RuntimeError("not logged in")
        return self._client

    # ------------------------------------------------------------ login

    def _new_client(self, device_id: str | None) -> AsyncClient:
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=True,
            pickle_key=self.settings.pickle_key,
            # 429s and connection errors come back to us: we back off with jitter ourselves.
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=60,
        )
        return AsyncClient(
            self.settings.homeserver,
            self.user_id,
            device_id=device_id or "",
            store_path=str(self.settings.store_dir),
            config=config,
        )

    @property
    def _session_file(self) -> Path:
        return self.settings.store_dir / "session.json"

    def _read_session(self) -> dict[str, str]:
        try:
            data = json.loads(self._session_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("user_id") != self.user_id:
            return {}
        return {k: str(v) for k, v in data.items()}

    def _write_session(self, data: dict[str, str]) -> None:
        tmp = self._session_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        tmp.replace(self._session_file)

    async def login(self) -> AsyncClient:
        """Restore the saved device, or log in once; never creates a device per start."""
        s = self.settings
        s.store_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(s.store_dir, 0o700)
        saved = self._read_session()
        if s.access_token:
            probe = self._new_client(None)
            probe.access_token = s.access_token
            try:
                who = await self.retry(probe.whoami, attempts=0)
            finally:
                await probe.close()
            if not isinstance(who, WhoamiResponse) or who.user_id != self.user_id:
                raise SettingsError(
                    "WEGWIJZER_MATRIX_ACCESS_TOKEN was refused or is for another user"
                )
            if not who.device_id:
                raise SettingsError("WEGWIJZER_MATRIX_ACCESS_TOKEN has no device id")
            client = self._new_client(who.device_id)
            client.restore_login(self.user_id, who.device_id, s.access_token)
            self._write_session({"user_id": self.user_id, "device_id": who.device_id})
            self._client = client
            return client
        if saved.get("access_token") and saved.get("device_id"):
            client = self._new_client(saved["device_id"])
            client.restore_login(self.user_id, saved["device_id"], saved["access_token"])
            try:
                who = await self.retry(client.whoami, attempts=0)
            except BaseException:
                await client.close()
                raise
            if isinstance(who, WhoamiResponse):
                self._client = client
                return client
            await client.close()
            if not (isinstance(who, ErrorResponse) and who.status_code == "M_UNKNOWN_TOKEN"):
                raise SettingsError("the homeserver did not accept the saved session")
            log.warning("saved Matrix session was revoked: logging in again")
        client = self._new_client(saved.get("device_id"))
        try:
            resp = await self.retry(
                lambda: client.login(s.password, device_name=s.device_name), attempts=0
            )
        except BaseException:
            await client.close()
            raise
        if not isinstance(resp, LoginResponse):
            await client.close()
            raise SettingsError("Matrix login failed: check WEGWIJZER_MATRIX_USER and the password")
        self._write_session(
            {
                "user_id": self.user_id,
                "device_id": resp.device_id,
                "access_token": resp.access_token,
            }
        )
        self._client = client
        return client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    # ------------------------------------------------------------ retries

    def retry_delay(self, resp: object, failures: int) -> float:
        """`retry_after_ms` when rate limited, else exponential backoff with full jitter."""
        s = self.settings
        if isinstance(resp, ErrorResponse) and resp.status_code == "M_LIMIT_EXCEEDED":
            after = getattr(resp, "retry_after_ms", None)
            if after:
                return min(float(after) / 1000.0, s.retry_max_seconds)
        return backoff_delay(failures, base=s.retry_base_seconds, cap=s.retry_max_seconds)

    async def retry(self, call: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
        """Call the homeserver; retry rate limits and connection errors with backoff.

        `attempts=0` retries for ever (logging in while the homeserver is still down).
        """
        for attempt in itertools.count():
            last = attempt == attempts - 1
            problem: object
            try:
                result = await call()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                homeserver_error()
                if last:
                    raise
                problem = exc
            else:
                limited = (
                    isinstance(result, ErrorResponse) and result.status_code == "M_LIMIT_EXCEEDED"
                )
                if not limited or last:
                    return result
                rate_limited("matrix")
                log.info("rate limited by the homeserver; waiting as asked")
                problem = result
            if attempt % 10 == 0 and not isinstance(problem, ErrorResponse):
                log.warning("homeserver unreachable (%d attempts so far); retrying", attempt + 1)
            await asyncio.sleep(self.retry_delay(problem, attempt))
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ the loop

    async def sync_forever(self, handler: SyncHandler) -> None:
        client = self.client
        catch_up = client.loaded_sync_token is None
        # nio would store each sync token as it arrives, before its messages are answered;
        # a replica that then died would make the next one skip them. Store it after.
        client.config = dataclasses.replace(client.config, store_sync_tokens=False)
        if catch_up:
            log.info("first start on this device: old messages will not be answered")
        failures = 0
        while True:
            timeout = self.settings.sync_timeout_ms
            wake = handler.wake_in()
            if wake is not None:
                timeout = max(0, min(timeout, int(wake * 1000)))
            resp: object
            try:
                resp = await client.sync(
                    timeout=timeout, sync_filter=_SYNC_FILTER, full_state=catch_up
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Network errors, and anything nio raises while taking in a sync: the loop
                # must outlive them all. Logged by type only (messages may hold content).
                resp = exc
            if isinstance(resp, SyncResponse):
                if failures:
                    log.info("homeserver reachable again after %d failed syncs", failures)
                failures = 0
                await self.keys()
                await handler.after_sync(resp, catch_up)
                if client.store is not None:
                    client.store.save_sync_token(resp.next_batch)
                catch_up = False
                continue
            delay = self.retry_delay(resp, failures)
            failures += 1
            homeserver_error()
            log.warning("sync failed (%s); retrying in %.1fs", describe(resp), delay)
            await asyncio.sleep(delay)

    async def keys(self) -> None:
        client = self.client
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    # ------------------------------------------------------------ calls

    async def send(self, room_id: str, content: dict[str, Any]) -> None:
        client = self.client
        room = client.rooms.get(room_id)
        if room is not None and room.encrypted and not room.members_synced:
            resp = await self.retry(lambda: client.joined_members(room_id))
            if not isinstance(resp, JoinedMembersResponse):
                log.warning("could not load the members of a room")
        sent = await self.retry(
            lambda: client.room_send(
                room_id, "m.room.message", content, ignore_unverified_devices=True
            )
        )
        if isinstance(sent, ErrorResponse):
            log.warning("could not send a reply: %s", sent.status_code)

    async def get_direct(self) -> dict[str, Any] | None:
        """The bot's `m.direct` account data ({} when it has none; None when unknown)."""
        resp = await self.retry(self.client.list_direct_rooms)
        if isinstance(resp, DirectRoomsResponse):
            return dict(resp.rooms)
        if isinstance(resp, ErrorResponse) and resp.status_code == "M_NOT_FOUND":
            return {}
        log.warning("could not read the direct-chat list: %s", describe(resp))
        return None

    async def put_direct(self, content: dict[str, list[str]]) -> None:
        """Write the bot's `m.direct` account data, as Element does for its user."""
        client = self.client
        path = f"/_matrix/client/v3/user/{quote(self.user_id, safe='')}/account_data/m.direct"
        headers = {
            "Authorization": f"Bearer {client.access_token}",
            "Content-Type": "application/json",
        }

        async def put() -> int:
            response = await client.send("PUT", path, json.dumps(content), headers)
            async with response:
                return int(response.status)

        status = await self.retry(put)
        if status >= 300:
            log.warning("could not update the direct-chat list: HTTP %d", status)

    async def redact_own(self, room_id: str) -> None:
        """Redact every message the bot sent in a room (for `vergeet`)."""
        client = self.client
        token = client.next_batch
        own: list[str] = []
        only_mine = {"senders": [self.user_id], "types": ["m.room.message", "m.room.encrypted"]}
        for _ in range(_FORGET_PAGES):
            page = await self.retry(
                lambda start=token: client.room_messages(  # type: ignore[misc]
                    room_id, start=start, limit=100, message_filter=only_mine
                )
            )
            if not isinstance(page, RoomMessagesResponse) or not page.chunk:
                break
            own.extend(
                e.event_id
                for e in page.chunk
                if e.sender == self.user_id and not getattr(e, "redacted", False)
            )
            if not page.end or page.end == token:
                break
            token = page.end
        for event_id in own:
            resp = await self.retry(
                lambda eid=event_id: client.room_redact(room_id, eid)  # type: ignore[misc]
            )
            if isinstance(resp, ErrorResponse):
                log.warning("could not redact a message: %s", resp.status_code)
