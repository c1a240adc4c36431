"""A real redis-server on loopback for the tests and the benchmark: no persistence, a
temporary folder, a free port; it can be stopped, restarted on the same port, paused."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process; `url` stays the same across `stop()` and `start()`."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server")
        self.binary = binary
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # As docs/deploy.md recommends: nothing written to disk, so state never outlives
        # the 30-minute expiry on a disk or in a backup.
        self.proc = subprocess.Popen(
            [
                self.binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
                *("--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")),
                *("--daemonize", "no", "--protected-mode", "yes"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def pause(self) -> None:
        """Freeze the server: connections stay open, nothing is answered (a hung Redis)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def dump(self) -> dict[bytes, bytes]:
        """Every key and its value (strings; other types as their members joined)."""
        client = redis.Redis(port=self.port, socket_timeout=2)
        try:
            out: dict[bytes, bytes] = {}
            for key in client.scan_iter(count=1000):
                kind = client.type(key)
                if kind == b"string":
                    out[key] = client.get(key) or b""
                elif kind == b"hash":
                    out[key] = b" ".join(k + b"=" + v for k, v in client.hgetall(key).items())
                elif kind in (b"list",):
                    out[key] = b" ".join(client.lrange(key, 0, -1))
                elif kind in (b"set",):
                    out[key] = b" ".join(client.smembers(key))
                else:
                    out[key] = kind
            return out
        finally:
            client.close()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)
