"""Message-to-reply time through a real Synapse: Wegwijzer against a bare nio echo bot.

Starts a throwaway Synapse on loopback (the one the tests use), then one person talks
to two bots on it in four rooms: Wegwijzer and a bare matrix-nio echo bot, each in a
plain and an end-to-end encrypted direct chat. Rounds are interleaved across the four
rooms so load and noise fall on all of them alike. The time is measured from just
before the person's client sends to the moment its sync shows the bot's reply.

    .venv/bin/python bench/matrix_roundtrip.py [--rounds 40] [--warmup 5]

Prints p50/p95 per room and the Wegwijzer/echo ratio (target: within 1.2x).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    RoomMessageText,
)

from bot import Engine, configure_logging, load_knowledge_base  # noqa: E402
from tests.conftest import make_test_kb  # noqa: E402
from tests.matrix.helpers import Person, bot_env, running_bot  # noqa: E402
from tests.matrix.synapse import Synapse, User  # noqa: E402

QUESTIONS = (
    "ik word gepest door mijn leidinggevende",
    "menu",
    "hoeveel vakantiedagen heb ik",
    "ik wil een klacht indienen over ongewenst gedrag",
    "help",
)


async def echo_bot(server: Synapse, user: User, store: Path) -> None:
    """The baseline: a bare nio bot that joins every invite and echoes text as a notice."""
    client = AsyncClient(
        server.url,
        user.user_id,
        store_path=str(store),
        config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
    )
    resp = await client.login(user.password, device_name="echo")
    assert isinstance(resp, LoginResponse), resp

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == user.user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != user.user_id:
            await client.room_send(
                room.room_id,
                "m.room.message",
                {"msgtype": "m.notice", "body": event.body},
                ignore_unverified_devices=True,
            )

    client.add_event_callback(on_invite, InviteMemberEvent)  # type: ignore[arg-type]
    client.add_event_callback(on_text, RoomMessageText)  # type: ignore[arg-type]
    try:
        await client.sync_forever(timeout=30_000, full_state=True)
    finally:
        await client.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(rounds: int, warmup: int) -> None:
    configure_logging("WARNING", stream=io.StringIO())
    with tempfile.TemporaryDirectory(prefix="wegwijzer-bench-") as tmp:
        root = Path(tmp)
        server = Synapse(root / "synapse")
        server.start()
        try:
            engine = Engine(load_knowledge_base(make_test_kb(root)))
            wegwijzer_user = server.register("wegwijzer")
            echo_user = server.register("echo")
            person = Person(server, server.register("person"), root / "person")
            env = bot_env(server, wegwijzer_user, root / "data")
            async with running_bot(engine, env):
                (root / "echo").mkdir()
                echo = asyncio.create_task(echo_bot(server, echo_user, root / "echo"))
                await person.login()
                rooms: dict[str, str] = {}
                for bot_name, bot_user in (("wegwijzer", wegwijzer_user), ("echo", echo_user)):
                    for kind in ("plain", "encrypted"):
                        room = await person.create_dm(
                            bot_user.user_id, encrypted=kind == "encrypted"
                        )
                        await person.wait_joined(room, bot_user.user_id)
                        if bot_name == "wegwijzer":
                            await person.next_notice(room, 0)  # the welcome
                        rooms[f"{bot_name} {kind}"] = room
                times: dict[str, list[float]] = {name: [] for name in rooms}
                for i in range(warmup + rounds):
                    text = QUESTIONS[i % len(QUESTIONS)]
                    for name, room in rooms.items():
                        start = time.perf_counter()
                        await person.ask(room, text)
                        if i >= warmup:
                            times[name].append(time.perf_counter() - start)
                echo.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await echo
                await person.close()
        finally:
            server.stop()

    print(f"Message -> reply through Synapse, {rounds} rounds (+{warmup} warm-up), ms")
    print(f"{'room':<22}{'p50':>8}{'p95':>8}{'mean':>8}")
    for name, values in times.items():
        ms = [v * 1000 for v in values]
        print(f"{name:<22}{pct(ms, 0.5):>8.1f}{pct(ms, 0.95):>8.1f}{statistics.mean(ms):>8.1f}")
    for kind in ("plain", "encrypted"):
        w, e = times[f"wegwijzer {kind}"], times[f"echo {kind}"]
        print(
            f"ratio wegwijzer/echo, {kind}: p50 {pct(w, 0.5) / pct(e, 0.5):.2f}x, "
            f"p95 {pct(w, 0.95) / pct(e, 0.95):.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.warmup))


if __name__ == "__main__":
    main()
