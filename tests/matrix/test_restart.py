"""Restarts, outages, rate limits and failing handlers: the sync loop carries on."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest

from bot import Engine, Message, Reply
from tests.matrix.helpers import People, bot_env, running_bot
from tests.matrix.synapse import Synapse, User

pytestmark = pytest.mark.matrix


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_bot_restart_answers_nothing_twice_and_nothing_old(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    encrypted: bool,
) -> None:
    env = bot_env(synapse, bot_user, data_dir)
    person = await people()
    async with running_bot(engine, env):
        room = await person.create_dm(bot_user.user_id, encrypted=encrypted)
        await person.next_notice(room, 0)
        await person.ask(room, "ik word gepest")
        await person.ask(room, "menu")
    device = (data_dir / "matrix" / "session.json").read_text()
    # Written while the bot is down: answered once after the restart, not lost.
    await person.say(room, "ik wil niet meer leven")
    async with running_bot(engine, env):
        crisis = await person.next_notice(room, 3)
        assert "113" in crisis.body
        later = await person.ask(room, "privacy")
        await asyncio.sleep(1.0)
        await person.sync()
    assert (data_dir / "matrix" / "session.json").read_text() == device  # same device
    bodies = [n.body for n in person.notices(room)]
    assert len(bodies) == 5  # welcome, two answers, crisis, privacy: nothing twice
    assert bodies[-1] == later.body


async def test_fresh_install_does_not_answer_old_messages(
    engine: Engine, synapse: Synapse, bot_user: User, data_dir: Path, people: People
) -> None:
    env = bot_env(synapse, bot_user, data_dir)
    person = await people()
    async with running_bot(engine, env):
        room = await person.create_dm(bot_user.user_id, encrypted=False)
        await person.next_notice(room, 0)
    shutil.rmtree(data_dir)  # a new install: no sync token, a new device
    await person.say(room, "ik word gepest")
    async with running_bot(engine, env):
        seen = await person.ask(room, "menu")
        await asyncio.sleep(1.0)
        await person.sync()
    assert [n.body for n in person.notices(room)][1:] == [seen.body]


async def test_homeserver_restart_mid_conversation(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)) as running:
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=True)
        await person.next_notice(room, 0)
        assert "Pesten" in (await person.ask(room, "ik word gepest")).body
        syncs = running.bot.sync_count
        await asyncio.to_thread(synapse.restart)
        seen = await person.ask(room, "ik word gepest door mijn leidinggevende", within=60)
        assert "Pesten" in seen.body and seen.encrypted
        assert running.bot.sync_count > syncs
        assert not running.task.done()
    assert "sync failed" in logs.getvalue()
    assert "reachable again" in logs.getvalue()


async def test_rate_limited_bot_waits_as_asked_and_answers_everything(
    engine: Engine,
    synapse: Synapse,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    # The one bot user whose message limit is not lifted: 0.5 messages/s, burst 3.
    bot_user = synapse.register("limited-bot", rate_limited=True)
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=False)
        await person.next_notice(room, 0)
        questions = ["menu", "help", "privacy", "ik word gepest", "1"]
        for q in questions:
            await person.say(room, q)
        await person.wait_for(lambda: len(person.notices(room)) >= 1 + len(questions), 60)
    assert "rate limited by the homeserver" in logs.getvalue()
    assert len(person.notices(room)) == 1 + len(questions)


class _Flaky(Engine):
    """The real engine, except that one message makes it fail."""

    async def handle(self, msg: Message) -> Reply:
        if "ontplof" in msg.text:
            raise RuntimeError(msg.text)  # the message must not reach any log
        return await super().handle(msg)


async def test_a_failing_handler_does_not_stop_the_sync_loop(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    flaky = _Flaky(engine.kb)
    async with running_bot(flaky, bot_env(synapse, bot_user, data_dir)) as running:
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=True)
        await person.next_notice(room, 0)
        await person.say(room, "ontplof geheimpje")
        assert "Pesten" in (await person.ask(room, "ik word gepest")).body
        assert not running.task.done()
    assert "handler failed: RuntimeError" in logs.getvalue()
    assert "geheimpje" not in logs.getvalue()


async def test_bot_waits_for_a_homeserver_that_is_not_up_yet(
    engine: Engine, synapse: Synapse, bot_user: User, data_dir: Path, logs: io.StringIO
) -> None:
    from adapters.matrix import load_settings
    from adapters.matrix._bot import MatrixBot
    from tests.matrix.synapse import free_port

    env = bot_env(synapse, bot_user, data_dir)
    env["WEGWIJZER_MATRIX_HOMESERVER"] = f"http://127.0.0.1:{free_port()}"  # nobody there
    bot = MatrixBot(engine, load_settings(env))
    task = asyncio.create_task(bot.run())
    await asyncio.sleep(1.5)
    assert not task.done()  # still retrying, not crashed
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "homeserver unreachable" in logs.getvalue()
