"""Bot Framework JWT validation with pyjwt, before any turn runs.

botbuilder's own validation answers several bad tokens with 500 and a traceback, and
always fetches its OpenID metadata from the internet. Here every bad token is an
`AuthError` (the endpoint answers 401), the metadata URL is a setting, and the key set
is cached: refreshed once a day, and at most once a minute when an unknown key id shows
up (Microsoft rolls its keys over with a few days' notice).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt

log = logging.getLogger("adapters.teams.auth")

#: Clock skew accepted on exp/nbf, as botbuilder does.
LEEWAY_SECONDS = 300
KEYS_MAX_AGE = 24 * 3600.0
#: A token that passed every check is remembered this long (the Bot Framework reuses one
#: token for many requests; an RSA check per request is the endpoint's largest CPU cost).
VERIFIED_TTL = 600.0
VERIFIED_MAX = 1024
MIN_REFRESH_INTERVAL = 60.0
ALGORITHMS = ["RS256"]

FetchJson = Callable[[str], Awaitable[Any]]


class AuthError(Exception):
    """A request's token is missing or bad. `reason` is fixed text, never token content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """The OpenID metadata or key set could not be fetched (not the caller's fault)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: Any
    endorsements: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Verified:
    """A token that passed signature, issuer, audience and expiry checks."""

    claims: dict[str, Any]
    key: SigningKey


class OpenIdKeys:
    """The signing keys named by an OpenID metadata document, cached."""

    def __init__(self, metadata_url: str, fetch_json: FetchJson) -> None:
        self._url = metadata_url
        self._fetch = fetch_json
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at = 0.0
        self._tried_at = -MIN_REFRESH_INTERVAL
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> SigningKey | None:
        """The key with this id, refreshing the cache when it is old or the id is new."""
        now = time.monotonic()
        if self._keys and now - self._fetched_at < KEYS_MAX_AGE and kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid in self._keys and time.monotonic() - self._fetched_at < KEYS_MAX_AGE:
                return self._keys[kid]
            if time.monotonic() - self._tried_at >= MIN_REFRESH_INTERVAL or not self._keys:
                await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        self._tried_at = time.monotonic()
        try:
            metadata = await self._fetch(self._url)
            jwks_uri = metadata["jwks_uri"]
            if not isinstance(jwks_uri, str):
                raise TypeError("jwks_uri")
            document = await self._fetch(jwks_uri)
            keys: dict[str, SigningKey] = {}
            for item in document["keys"]:
                if not isinstance(item, dict) or not isinstance(item.get("kid"), str):
                    continue
                try:
                    key = jwt.PyJWK(item, algorithm="RS256").key
                except jwt.PyJWTError:
                    continue
                endorsements = item.get("endorsements")
                keys[item["kid"]] = SigningKey(
                    key,
                    frozenset(e for e in endorsements if isinstance(e, str))
                    if isinstance(endorsements, list)
                    else None,
                )
        except Exception as exc:  # any network, JSON or shape problem: keep the old keys
            log.warning("could not refresh the OpenID signing keys: %s", type(exc).__name__)
            if not self._keys:
                raise KeysUnavailable from None
            return
        self._keys = keys
        self._fetched_at = time.monotonic()
        log.info("OpenID signing keys loaded: %d", len(keys))


class TokenValidator:
    """Checks the `Authorization` header of a request from the Bot Framework."""

    def __init__(self, keys: OpenIdKeys, app_id: str, issuers: tuple[str, ...]) -> None:
        self._keys = keys
        self._app_id = app_id
        self._issuers = list(issuers)
        self._verified: OrderedDict[str, tuple[float, Verified]] = OrderedDict()

    async def verify(self, header: str | None) -> Verified:
        """Signature, algorithm, key id, issuer, audience and expiry.

        Raises:
            AuthError: Anything wrong with the token.
            KeysUnavailable: No signing keys could be loaded at all.
        """
        if not header:
            raise AuthError("no Authorization header")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("not a bearer token")
        cached = self._verified.get(token)
        if cached is not None:
            until, verified = cached
            if time.monotonic() < until and time.time() < verified.claims["exp"] + LEEWAY_SECONDS:
                return verified
            del self._verified[token]
        verified = await self._verify(token)
        exp = verified.claims["exp"]
        if isinstance(exp, int | float):
            self._verified[token] = (time.monotonic() + VERIFIED_TTL, verified)
            while len(self._verified) > VERIFIED_MAX:
                self._verified.popitem(last=False)
        return verified

    async def _verify(self, token: str) -> Verified:
        try:
            head = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("unreadable token") from None
        if head.get("alg") not in ALGORITHMS:
            raise AuthError("algorithm not allowed")
        kid = head.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("no key id")
        key = await self._keys.get(kid)
        if key is None:
            raise AuthError("unknown key id")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self._app_id,
                issuer=self._issuers,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise AuthError("wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise AuthError("bad signature") from None
        except jwt.PyJWTError:
            raise AuthError("invalid token") from None
        return Verified(claims, key)


def check_activity(verified: Verified, channel_id: str, service_url: str) -> None:
    """The token must be endorsed for the activity's channel and name its service URL.

    Raises:
        AuthError: Channel not endorsed by the signing key, or service URL mismatch.
    """
    endorsements = verified.key.endorsements
    if endorsements is None or channel_id not in endorsements:
        raise AuthError("channel not endorsed by the signing key")
    claimed = verified.claims.get("serviceurl")
    if not isinstance(claimed, str) or claimed.rstrip("/") != service_url.rstrip("/"):
        raise AuthError("service URL does not match the token")
