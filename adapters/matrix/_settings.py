"""Matrix settings: read from the environment (and an optional `KEY=VALUE` file), checked
once at start, so a wrong value stops the bot with a message naming the variable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from adapters._contract import SettingsError
from bot import default_data_dir

#: The variable that switches the Matrix channel on.
ENV_SWITCH = "WEGWIJZER_MATRIX_HOMESERVER"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the Matrix adapter needs, validated; see `load_settings`."""

    homeserver: str
    user_id: str
    password: str
    access_token: str
    pickle_key: str
    allowed: tuple[str, ...]
    data_dir: Path
    device_name: str = "Wegwijzer"
    sync_timeout_ms: int = 30_000
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0

    @property
    def domain(self) -> str:
        return self.user_id.split(":", 1)[1]

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "matrix"

    def allows(self, user_id: str) -> bool:
        """Whether `user_id` may invite the bot: listed itself, or its domain is listed."""
        domain = user_id.split(":", 1)[1] if ":" in user_id else ""
        return any(a == user_id or (not a.startswith("@") and a == domain) for a in self.allowed)


USER_ID = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def read_config_file(path: Path) -> dict[str, str]:
    """A `KEY=VALUE` file (blank lines and `#` comments allowed); raises SettingsError."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SettingsError(f"cannot read WEGWIJZER_MATRIX_CONFIG {path}: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _number(values: Mapping[str, str], key: str, default: float, low: float, high: float) -> float:
    raw = values.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{key} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{key} must be between {low:g} and {high:g}")
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and check the Matrix settings; raises SettingsError naming what is wrong."""
    values: dict[str, str] = {}
    config = env.get("WEGWIJZER_MATRIX_CONFIG", "").strip()
    if config:
        values.update(read_config_file(Path(config)))
    values.update({k: v for k, v in env.items() if v.strip()})

    homeserver = values.get(ENV_SWITCH, "").strip().rstrip("/")
    parts = urlsplit(homeserver)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{ENV_SWITCH} must be an http(s) URL")
    user_id = values.get("WEGWIJZER_MATRIX_USER", "").strip()
    if not USER_ID.match(user_id):
        raise SettingsError(
            "WEGWIJZER_MATRIX_USER must be a full user id like @wegwijzer:example.org"
        )
    password = values.get("WEGWIJZER_MATRIX_PASSWORD", "")
    token = values.get("WEGWIJZER_MATRIX_ACCESS_TOKEN", "").strip()
    if not password and not token:
        raise SettingsError("set WEGWIJZER_MATRIX_PASSWORD or WEGWIJZER_MATRIX_ACCESS_TOKEN")
    pickle_key = values.get("WEGWIJZER_MATRIX_PICKLE_KEY", "")
    if len(pickle_key) < 16:
        raise SettingsError(
            "WEGWIJZER_MATRIX_PICKLE_KEY must be set (at least 16 characters): it protects "
            "the encryption keys stored on disk"
        )
    domain = user_id.split(":", 1)[1]
    allowed = tuple(
        a.strip() for a in values.get("WEGWIJZER_MATRIX_ALLOWED", domain).split(",") if a.strip()
    )
    for entry in allowed:
        if entry.startswith("@") and not USER_ID.match(entry):
            raise SettingsError(f"WEGWIJZER_MATRIX_ALLOWED: {entry!r} is not a valid user id")
    if not allowed:
        raise SettingsError("WEGWIJZER_MATRIX_ALLOWED is empty: nobody could invite the bot")
    base = _number(values, "WEGWIJZER_MATRIX_RETRY_BASE_SECONDS", 1.0, 0.001, 60)
    return Settings(
        homeserver=homeserver,
        user_id=user_id,
        password=password,
        access_token=token,
        pickle_key=pickle_key,
        allowed=allowed,
        data_dir=default_data_dir(values),
        device_name=values.get("WEGWIJZER_MATRIX_DEVICE_NAME", "Wegwijzer").strip(),
        sync_timeout_ms=int(
            _number(values, "WEGWIJZER_MATRIX_SYNC_TIMEOUT_MS", 30_000, 0, 120_000)
        ),
        retry_base_seconds=base,
        retry_max_seconds=_number(values, "WEGWIJZER_MATRIX_RETRY_MAX_SECONDS", 60.0, base, 3600),
    )
