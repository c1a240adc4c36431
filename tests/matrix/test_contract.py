"""The shared adapter contract, run against the Matrix adapter over the real homeserver,
in an end-to-end encrypted direct chat (what Element opens by default) and a plain one."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot import Engine
from tests.adapter_contract import AdapterContract, Harness
from tests.matrix.helpers import Person, bot_env, running_bot
from tests.matrix.synapse import Synapse, User

pytestmark = pytest.mark.matrix

#: Synapse refuses events over 64 KiB; once encrypted (base64) a message grows by a third.
#: A person cannot send more than this, so longer contract inputs are cut here.
LARGEST_SENDABLE = 30_000


@pytest.fixture(params=["encrypted", "plain"])
async def harness(
    request: pytest.FixtureRequest,
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: Callable[..., Awaitable[Person]],
    logs: io.StringIO,
    capfd: pytest.CaptureFixture[str],
) -> AsyncIterator[Harness]:
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        encrypted = request.param == "encrypted"
        room = await person.create_dm(bot_user.user_id, encrypted=encrypted)
        welcome = await person.next_notice(room, 0)
        assert welcome.encrypted is encrypted
        output: list[str] = []

        async def send(text: str) -> str:
            seen = await person.ask(room, text[:LARGEST_SENDABLE])
            assert seen.encrypted is encrypted and seen.msgtype == "m.notice"
            return seen.body

        def captured() -> str:
            out, err = capfd.readouterr()
            output.append(out + err)
            return logs.getvalue() + "".join(output)

        yield Harness(send=send, written=[data_dir], captured=captured)


class TestMatrixContract(AdapterContract):
    pass
