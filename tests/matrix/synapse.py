"""A real Synapse homeserver on loopback, for the Matrix tests and the benchmark.

Synapse runs in its own venv (`WEGWIJZER_SYNAPSE_PYTHON`, see the Makefile) as a child
process: SQLite in a temp folder, a free 127.0.0.1 port, no federation, no trusted key
servers. Users are registered through the shared-secret admin API.

Rate limits: every limit is raised in the config except `rc_message` (messages and
redactions), which stays low; each registered user gets an admin override that lifts
it, unless registered with `rate_limited=True` (the one test that checks how the bot
honours `M_LIMIT_EXCEEDED`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SERVER_NAME = "wegwijzer.test"
_DEFAULT_PYTHON = REPO / ".venv-synapse" / "bin" / "python"

_HIGH = {"per_second": 10000, "burst_count": 100000}
_LIMITS = {
    "rc_registration": _HIGH,
    "rc_login": {"address": _HIGH, "account": _HIGH, "failed_attempts": _HIGH},
    "rc_joins": {"local": _HIGH, "remote": _HIGH},
    "rc_joins_per_room": _HIGH,
    "rc_invites": {"per_room": _HIGH, "per_user": _HIGH, "per_issuer": _HIGH},
    "rc_admin_redaction": _HIGH,
    "rc_room_creation": _HIGH,
    "rc_3pid_validation": _HIGH,
    "rc_presence": {"per_user": _HIGH},
    "rc_delayed_event_mgmt": _HIGH,
    "rc_key_requests": _HIGH,
    # Kept low on purpose; lifted per user with the admin override (see module docstring).
    "rc_message": {"per_second": 0.5, "burst_count": 3},
}


def synapse_python() -> Path:
    """The Python that has Synapse installed."""
    value = os.environ.get("WEGWIJZER_SYNAPSE_PYTHON", "").strip()
    return Path(value) if value else _DEFAULT_PYTHON


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class User:
    user_id: str
    password: str
    access_token: str


@dataclass
class Synapse:
    """One homeserver: `start()`, `stop()`, `restart()`, `register()`."""

    root: Path
    port: int = field(default_factory=free_port)
    python: Path = field(default_factory=synapse_python)
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen[bytes] | None = None
    admin: User | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.root / "homeserver.log"

    def write_config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "media").mkdir(exist_ok=True)
        log_config = {
            "version": 1,
            "formatters": {"f": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "filename": str(self.log_path),
                    "formatter": "f",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        (self.root / "log.yaml").write_text(json.dumps(log_config))
        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "pid_file": str(self.root / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.root / "homeserver.db")},
            },
            "log_config": str(self.root / "log.yaml"),
            "media_store_path": str(self.root / "media"),
            "signing_key_path": str(self.root / "signing.key"),
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "registration_shared_secret": self.secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            # Cheap password hashing: registering and logging in test users stays fast.
            "bcrypt_rounds": 4,
            "enable_metrics": False,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            **_LIMITS,
        }
        path = self.root / "homeserver.yaml"
        # JSON is valid YAML, and needs no YAML library here.
        path.write_text(json.dumps(config, indent=1))
        if not (self.root / "signing.key").exists():
            subprocess.run(
                [
                    str(self.python),
                    "-m",
                    "synapse.app.homeserver",
                    "-c",
                    str(path),
                    "--generate-keys",
                ],
                check=True,
                cwd=self.root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=120,
            )
        return path

    def start(self, timeout: float = 90.0) -> None:
        if not self.python.exists():
            raise RuntimeError(
                f"Synapse is not installed at {self.python}: run `make test`, or set "
                "WEGWIJZER_SYNAPSE_PYTHON to a python with matrix-synapse installed"
            )
        config = self.write_config()
        out = (self.root / "stdout.log").open("ab")
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(config)],
            cwd=self.root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Synapse exited early; see {self.root}/stdout.log")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2):  # noqa: S310
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("Synapse did not come up in time")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # ------------------------------------------------------------------ admin API

    def _request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)  # noqa: S310
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            return json.loads(resp.read() or b"{}")

    def register(self, localpart: str, *, admin: bool = False, rate_limited: bool = False) -> User:
        """Register a user with the shared secret; lifts its message limit unless asked not to."""
        password = secrets.token_hex(12)
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        kind = "admin" if admin else "notadmin"
        mac.update("\x00".join((nonce, localpart, password, kind)).encode())
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        got = self._request("POST", "/_synapse/admin/v1/register", body)
        user = User(got["user_id"], password, got["access_token"])
        if admin:
            self.admin = self.admin or user
        if not rate_limited:
            self.lift_limits(user.user_id)
        return user

    def lift_limits(self, user_id: str) -> None:
        if self.admin is None:
            self.register(f"admin{secrets.token_hex(4)}", admin=True)
        assert self.admin is not None
        self._request(
            "POST",
            f"/_synapse/admin/v1/users/{urllib.request.quote(user_id)}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
            token=self.admin.access_token,
        )


def main() -> None:
    """`python tests/matrix/synapse.py DIR`: run a homeserver by hand until Ctrl-C."""
    server = Synapse(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("synapse-data"))
    server.start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
