"""Teams settings, read from a mapping (the environment) without side effects.

Credentials use the Bot Framework names (`MicrosoftAppId`, ...); everything else is
`WEGWIJZER_TEAMS_*`. `load_settings` raises SettingsError (a ValueError) with a message
that names the setting, never its value (a value may be a secret).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from adapters._contract import SettingsError

#: The Bot Framework's public OpenID metadata (keys that sign channel tokens).
DEFAULT_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
#: Issuer of the tokens the Bot Framework channel service (Teams) sends to bots.
DEFAULT_ISSUERS = ("https://api.botframework.com",)
#: Where Teams' service URLs live (public cloud and GCC); `*.` matches any subdomain.
DEFAULT_SERVICE_URLS = (
    "https://smba.trafficmanager.net",
    "https://smba.infra.gcc.teams.microsoft.com",
    "https://*.botframework.com",
)
DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"  # noqa: S105
DEFAULT_TOKEN_SCOPE = "https://api.botframework.com/.default"  # noqa: S105
APP_TYPES = ("SingleTenant", "MultiTenant")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class UrlRule:
    """One allowed service-URL origin: scheme, host (or `*.suffix`) and optional port."""

    scheme: str
    host: str
    port: int | None = None

    def matches(self, url: str) -> bool:
        """True when `url` has this rule's scheme, host and port."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        if parts.scheme.lower() != self.scheme or not host or parts.username or parts.password:
            return False
        if self.port is not None and port != self.port:
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and len(host) > len(self.host) - 1
        return host == self.host


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the Teams endpoint needs, checked once at start."""

    host: str
    port: int
    app_id: str
    app_password: str
    app_type: str
    tenant_id: str
    insecure: bool
    tenants: frozenset[str]
    service_urls: tuple[UrlRule, ...]
    openid_url: str
    issuers: tuple[str, ...]
    token_url: str
    token_scope: str
    retry_base: float
    max_attempts: int

    def service_url_allowed(self, url: str) -> bool:
        """Replies may go to this service URL (checked before any token is sent)."""
        if self.insecure:
            return _is_loopback_url(url)
        return any(rule.matches(url) for rule in self.service_urls)


def _get(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(name, default).strip() or default


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_url_rule(text: str) -> UrlRule:
    """`https://host`, `https://*.suffix` or `http://127.0.0.1:3978` as a rule."""
    parts = urlsplit(text)
    host = parts.netloc.lower()
    port: int | None = None
    if ":" in host and not host.endswith("]"):
        host, _, port_text = host.rpartition(":")
        if not port_text.isdigit():
            raise ValueError("WEGWIJZER_TEAMS_SERVICE_URLS: a port is not a number")
        port = int(port_text)
    host = host.strip("[]")
    if parts.scheme not in ("https", "http") or not host or parts.path.strip("/"):
        raise ValueError(
            "WEGWIJZER_TEAMS_SERVICE_URLS: each item must be scheme://host[:port], "
            "for example https://smba.trafficmanager.net"
        )
    return UrlRule(parts.scheme, host, port)


def _is_loopback_url(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _https(name: str, value: str) -> str:
    if not value.startswith("https://") and not _is_loopback_url(value):
        raise ValueError(f"{name} must be an https:// URL")
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and check the Teams settings.

    Raises:
        SettingsError: A setting is missing or wrong; the message names it.
    """
    try:
        return _load(env)
    except SettingsError:
        raise
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _load(env: Mapping[str, str]) -> Settings:
    port_text = _get(env, "WEGWIJZER_TEAMS_PORT")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError("WEGWIJZER_TEAMS_PORT must be a port number (0-65535)")
    insecure = _get(env, "WEGWIJZER_TEAMS_INSECURE_NO_AUTH").lower() in _TRUE
    app_id = _get(env, "MicrosoftAppId")
    password = env.get("MicrosoftAppPassword", "")
    app_type = _get(env, "MicrosoftAppType", "SingleTenant")
    tenant_id = _get(env, "MicrosoftAppTenantId")
    if app_type not in APP_TYPES:
        raise ValueError(
            "MicrosoftAppType must be SingleTenant or MultiTenant "
            "(managed identities are not supported by this adapter)"
        )
    if not insecure:
        if not app_id:
            raise ValueError(
                "MicrosoftAppId is not set: the Teams endpoint refuses to start without "
                "authentication (WEGWIJZER_TEAMS_INSECURE_NO_AUTH=1 is for local tests only)"
            )
        if not _GUID.match(app_id):
            raise ValueError("MicrosoftAppId must be the bot's application (client) id, a GUID")
        if not password:
            raise ValueError("MicrosoftAppPassword is not set")
        if app_type == "SingleTenant" and not _GUID.match(tenant_id):
            raise ValueError("MicrosoftAppTenantId (a GUID) is required for a SingleTenant bot")
    token_tenant = tenant_id if app_type == "SingleTenant" and tenant_id else "botframework.com"
    service_text = _get(env, "WEGWIJZER_TEAMS_SERVICE_URLS")
    rules = tuple(parse_url_rule(t) for t in (_split(service_text) or DEFAULT_SERVICE_URLS))
    try:
        retry_base = float(_get(env, "WEGWIJZER_TEAMS_RETRY_BASE_SECONDS", "0.5"))
        attempts = int(_get(env, "WEGWIJZER_TEAMS_RETRY_ATTEMPTS", "5"))
    except ValueError:
        raise ValueError("WEGWIJZER_TEAMS_RETRY_* must be numbers") from None
    if not 0 <= retry_base <= 60 or not 1 <= attempts <= 10:
        raise ValueError("WEGWIJZER_TEAMS_RETRY_BASE_SECONDS 0-60, _ATTEMPTS 1-10")
    return Settings(
        host=_get(env, "WEGWIJZER_TEAMS_HOST", "127.0.0.1"),
        port=int(port_text),
        app_id=app_id,
        app_password=password,
        app_type=app_type,
        tenant_id=tenant_id,
        insecure=insecure,
        tenants=frozenset(t.lower() for t in _split(_get(env, "WEGWIJZER_TEAMS_TENANTS"))),
        service_urls=rules,
        openid_url=_https(
            "WEGWIJZER_TEAMS_OPENID_URL",
            _get(env, "WEGWIJZER_TEAMS_OPENID_URL", DEFAULT_OPENID_URL),
        ),
        issuers=tuple(_split(_get(env, "WEGWIJZER_TEAMS_TOKEN_ISSUERS"))) or DEFAULT_ISSUERS,
        token_url=_https(
            "WEGWIJZER_TEAMS_TOKEN_URL",
            _get(env, "WEGWIJZER_TEAMS_TOKEN_URL", DEFAULT_TOKEN_URL).replace(
                "{tenant}", token_tenant
            ),
        ),
        token_scope=_get(env, "WEGWIJZER_TEAMS_TOKEN_SCOPE", DEFAULT_TOKEN_SCOPE),
        retry_base=retry_base,
        max_attempts=attempts,
    )
