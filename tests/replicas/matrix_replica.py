"""Run as a process by test_matrix_lease.py: one replica's Matrix channel, behind the
lease, exactly as `adapters.matrix` should start it once the lease is wired in:

    lease = lease_from_env(env, "matrix-sync")
    if lease is None:
        await bot.run()                               # one replica: no lease needed
    else:
        await run_while_held(lease, lambda: MatrixBot(engine, settings).run())

argv: knowledge folder, log file."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
from pathlib import Path

from adapters._lease import lease_from_env, run_while_held
from bot import Engine, configure_logging, load_knowledge_base
from bot._stores import store_from_env


async def main(knowledge: Path) -> None:
    env = dict(os.environ)
    engine = Engine(load_knowledge_base(knowledge), store=store_from_env(env))
    matrix = importlib.import_module("adapters.matrix")
    platform = getattr(matrix, "PLATFORM", None)  # the platform contract, once merged
    serve = platform.serve if platform is not None else matrix.serve
    lease = lease_from_env(env, "matrix-sync")
    assert lease is not None
    await run_while_held(lease, lambda: serve(engine, env))


if __name__ == "__main__":
    with open(sys.argv[2], "a") as log, contextlib.suppress(KeyboardInterrupt):
        configure_logging("INFO", stream=log)
        asyncio.run(main(Path(sys.argv[1])))
