"""Run as a process by test_matrix_lease.py: one replica's Matrix channel as `wegwijzer
run` starts it; with WEGWIJZER_STATE_URL set, `adapters.matrix` syncs only while it holds
the lease.

argv: knowledge folder, log file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from adapters import load
from bot import Engine, configure_logging, load_knowledge_base
from bot._stores import store_from_env


async def main(knowledge: Path) -> None:
    env = dict(os.environ)
    engine = Engine(load_knowledge_base(knowledge), store=store_from_env(env))
    assert env.get("WEGWIJZER_STATE_URL"), "the lease needs shared state"
    await load("matrix").serve(engine, env)


if __name__ == "__main__":
    with open(sys.argv[2], "a") as log, contextlib.suppress(KeyboardInterrupt):
        configure_logging("INFO", stream=log)
        asyncio.run(main(Path(sys.argv[1])))
