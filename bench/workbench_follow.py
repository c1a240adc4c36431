"""How fast an open workbench page follows an edit of the knowledge folder.

Starts `wegwijzer kb serve` over a copy of the knowledge folder, opens an entry in the
system Chromium, changes the entry's title five times and measures, for each save, the
seconds until the page shows the new title. Run: `.venv/bin/python bench/workbench_follow.py`.
"""

from __future__ import annotations

import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

WEGWIJZER = [sys.executable, "-m", "bot.cli"]
ENTRY = "pesten-op-het-werk"
TITLE = "title: Pesten op het werk"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "knowledge"
        shutil.copytree(REPO / "knowledge", root)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "--knowledge",
                str(root),
                "kb",
                "serve",
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        try:
            assert proc.stdout is not None
            found = re.search(r"http://\S+/", proc.stdout.readline())
            assert found
            path = root / "entries" / "ongewenst-gedrag.yaml"
            seconds = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"{found.group(0)}entry/{ENTRY}")
                time.sleep(2)
                current = TITLE
                for i in range(5):
                    new = f"{TITLE} {i}"
                    text = path.read_text(encoding="utf-8")
                    start = time.monotonic()
                    path.write_text(text.replace(current, new, 1), encoding="utf-8")
                    expect(page.locator(".console")).to_contain_text(new[7:], timeout=30_000)
                    seconds.append(time.monotonic() - start)
                    current = new
                    time.sleep(1)
                browser.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
    print("seconds from save to updated page:", ", ".join(f"{s:.2f}" for s in seconds))
    print(f"median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")


if __name__ == "__main__":
    main()
