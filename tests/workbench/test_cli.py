"""`wegwijzer kb serve` as a coordinator starts it: the address, a clean stop, a port in
use, and nothing typed kept (a canary through a tried question, then search everywhere)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.test_privacy import REPO, assert_nowhere, new_canary
from tests.workbench.conftest import copy_knowledge

WEGWIJZER = [sys.executable, "-m", "bot.cli"]


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*WEGWIJZER, "--knowledge", str(root), "kb", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def test_serve_try_stop_and_keep_nothing(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path)
    since = time.time()
    proc = _start(root, "--port", "0")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        url = found.group(0)
        canary = new_canary()
        body = urllib.parse.urlencode({"q": f"ik word gepest {canary}"}).encode()
        with urllib.request.urlopen(url + "try", data=body, timeout=30) as r:  # noqa: S310
            page = r.read().decode()
        # Shown back in the page it was typed in (the text area), nowhere else.
        assert canary in page
        with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310
            assert canary not in r.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert_nowhere(canary, [out, err], [tmp_path, REPO], since)


def test_port_in_use_is_a_clear_exit(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _start(copy_knowledge(tmp_path), "--port", str(port))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "Cannot start the workbench" in err
    assert "Traceback" not in err + out
