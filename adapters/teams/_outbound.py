"""Replies to the Bot Framework connector over one shared aiohttp session.

botbuilder builds a new msrest ConnectorClient (and a UserTokenClient) for every turn,
which costs ~25 ms of CPU each time (see the throughput note in the docs); a shared
session with keep-alive connections per service URL costs a fraction of a millisecond.
Outbound calls retry 429, 412, 502 and 504 (and connection errors) with exponential
backoff and jitter, honouring a short Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters._backoff import backoff_delay
from adapters.teams._settings import Settings
from bot import rate_limited

log = logging.getLogger("adapters.teams.outbound")

RETRY_STATUSES = frozenset({412, 429, 502, 504})
MAX_RETRY_AFTER = 30.0
TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)
#: Refresh the bot's access token this long before it expires.
TOKEN_MARGIN = 300.0


class OutboundError(Exception):
    """A reply could not be delivered. Carries a status, never reply content."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class RefusedServiceUrl(OutboundError):
    """The service URL is not on the allowed list; nothing was sent there."""


class Outbound:
    """Posts activities to connector service URLs, with the bot's token and retries."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        self._session = session
        self._settings = settings
        self._token = ""
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def send(
        self, service_url: str, conversation_id: str, reply_to_id: str | None, activity: Any
    ) -> dict[str, Any]:
        """POST an activity into a conversation (as a reply when `reply_to_id` is set)."""
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities"
        if reply_to_id:
            path += "/" + quote(reply_to_id, safe="")
        return await self.request("POST", service_url, path, activity)

    async def request(
        self, method: str, service_url: str, path: str, body: Any = None
    ) -> dict[str, Any]:
        """One connector call with retries; returns the JSON answer ({} when empty)."""
        if not self._settings.service_url_allowed(service_url):
            raise RefusedServiceUrl("service URL not allowed")
        url = service_url.rstrip("/") + "/" + path
        attempts = self._settings.max_attempts
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {await self._bearer()}"}
            if self._settings.insecure:
                headers = {}
            delay: float | None = None
            try:
                async with self._session.request(
                    method, url, json=body, headers=headers, timeout=TIMEOUT
                ) as response:
                    if response.status < 300:
                        if response.content_type == "application/json":
                            data = await response.json()
                            return data if isinstance(data, dict) else {}
                        return {}
                    status = response.status
                    if status == 401 and not renewed and not self._settings.insecure:
                        # The token may have been revoked or rolled: fetch a new one, once.
                        renewed = True
                        self._token_expires = 0.0
                        attempt -= 1
                        continue
                    if status not in RETRY_STATUSES or attempt >= attempts:
                        raise OutboundError("connector refused the reply", status)
                    if status == 429:
                        rate_limited("teams")
                    delay = _retry_after(response.headers.get("Retry-After"))
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if attempt >= attempts:
                    raise OutboundError(f"connector unreachable: {type(exc).__name__}") from None
            log.info("connector busy or unreachable; retry %d of %d", attempt, attempts - 1)
            await asyncio.sleep(delay if delay is not None else self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt - 1, base=self._settings.retry_base, cap=MAX_RETRY_AFTER)

    async def _bearer(self) -> str:
        if self._settings.insecure:
            return ""
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        async with self._token_lock:
            if not self._token or time.monotonic() >= self._token_expires:
                await self._fetch_token()
        return self._token

    async def _fetch_token(self) -> None:
        s = self._settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.app_id,
            "client_secret": s.app_password,
            "scope": s.token_scope,
        }
        for attempt in range(1, s.max_attempts + 1):
            try:
                async with self._session.post(s.token_url, data=form, timeout=TIMEOUT) as resp:
                    if resp.status == 200:
                        data = await resp.json(content_type=None)
                        token = data.get("access_token") if isinstance(data, dict) else None
                        if not isinstance(token, str) or not token:
                            raise OutboundError("token endpoint gave no access token")
                        lifetime = float(data.get("expires_in", 3600))
                        self._token = token
                        self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, 30)
                        return
                    if resp.status not in RETRY_STATUSES | {500, 503}:
                        raise OutboundError("token endpoint refused the credentials", resp.status)
            except (aiohttp.ClientConnectionError, TimeoutError, ValueError):
                pass
            if attempt < s.max_attempts:
                await asyncio.sleep(self._backoff(attempt))
        raise OutboundError("could not get an access token")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None
