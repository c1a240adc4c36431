"""Run as a process by test_lease.py: waits for the lease "test", and while holding it
appends "<pid> <wall time>" to a file every 50 ms."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from typing import TextIO

from adapters._lease import lease_from_env, run_while_held


async def main(out: TextIO) -> None:
    lease = lease_from_env(os.environ, "test")
    assert lease is not None

    async def work() -> None:
        while True:
            out.write(f"{os.getpid()} {time.time()}\n")
            out.flush()
            await asyncio.sleep(0.05)

    await run_while_held(lease, work)


if __name__ == "__main__":
    with open(sys.argv[1], "a") as ticks, contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(ticks))
