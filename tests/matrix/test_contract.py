"""The shared adapter contract, run against the Matrix adapter over the real homeserver,
in an end-to-end encrypted direct chat (what Element opens by default) and a plain one.

Replies use the legacy reply fallback (the quote inside the message, as older Element
builds send it), edits are `m.replace`, and the shared room has a second person in it;
one running bot serves the direct chat, the shared room and any new direct chat.
"""

from __future__ import annotations

import contextlib
import html
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot import Engine, configure_logging, load_knowledge_base
from tests.adapter_contract import AdapterContract, Addressed, Harness, Shared
from tests.conftest import make_test_kb
from tests.matrix.helpers import (
    Person,
    Seen,
    bot_env,
    capture_logs,
    edit_of,
    legacy_reply,
    mention,
    quiet,
    running_bot,
)
from tests.matrix.synapse import Synapse

#: The tests run in the loop of the module-wide bot (see `running`).
pytestmark = [pytest.mark.matrix, pytest.mark.asyncio(loop_scope="module")]

#: Synapse refuses events over 64 KiB; once encrypted (base64) a message grows by a third.
#: A person cannot send more than this, so longer contract inputs are cut here.
LARGEST_SENDABLE = 30_000


@dataclass
class _Chat:
    """The person's side: their last message and the bot's last notice in the direct
    chat, and the shared room once one is needed."""

    mine: str = ""
    last: Seen | None = None
    shared: str = ""
    shared_mine: str = ""


@dataclass
class _Running:
    """One bot, the person and a colleague, shared by every test of one harness."""

    encrypted: bool
    bot_id: str
    person: Person
    colleague: Person
    data_dir: Path
    logs: io.StringIO


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["encrypted", "plain"])
async def running(
    request: pytest.FixtureRequest,
    synapse: Synapse,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[_Running]:
    """Starting a bot and logging people in takes seconds: do it once per harness; each
    test then opens its own direct chat, so no conversation carries over."""
    engine = Engine(load_knowledge_base(make_test_kb(tmp_path_factory.mktemp("kb"))))
    bot_user = synapse.register(f"wegwijzer-{uuid.uuid4().hex[:8]}")
    data_dir = tmp_path_factory.mktemp("matrix-contract") / "data"
    logs = capture_logs("DEBUG")
    people: list[Person] = []
    for name in ("person", "colleague"):
        user = synapse.register(f"{name}-{uuid.uuid4().hex[:8]}")
        store = data_dir.parent / "people" / user.user_id[1:].split(":")[0]
        people.append(Person(synapse, user, store))
        await people[-1].login()
    try:
        async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
            person, colleague = people
            encrypted = request.param == "encrypted"
            yield _Running(encrypted, bot_user.user_id, person, colleague, data_dir, logs)
    finally:
        for person in people:
            await person.close()
        with contextlib.suppress(Exception):
            configure_logging("WARNING", stream=io.StringIO())


@pytest_asyncio.fixture(loop_scope="module")
async def harness(running: _Running, capfd: pytest.CaptureFixture[str]) -> Harness:
    encrypted, bot_id, person = running.encrypted, running.bot_id, running.person
    room = await person.create_dm(bot_id, encrypted=encrypted)
    welcome_seen = await person.next_notice(room, 0)
    assert welcome_seen.encrypted is encrypted
    chat = _Chat(last=welcome_seen)
    output: list[str] = []

    async def answered(room_id: str, content: dict[str, Any]) -> Seen:
        before = len(person.notices(room_id))
        mine = await person.send_content(room_id, content)
        seen = await person.next_notice(room_id, before)
        assert seen.encrypted is encrypted and seen.msgtype == "m.notice"
        if room_id == room:
            chat.mine, chat.last = mine, seen
        else:
            chat.shared_mine = mine
        return seen

    async def unanswered(
        room_id: str, content: dict[str, Any], by: Person | None = None
    ) -> str | None:
        before = len(person.notices(room_id))
        await (by or person).send_content(room_id, content)
        await quiet(person, 1.0)
        late = person.notices(room_id)[before:]
        return late[0].body if late else None

    async def send(text: str) -> str:
        content = {"msgtype": "m.text", "body": text[:LARGEST_SENDABLE]}
        return (await answered(room, content)).body

    async def reply(text: str, quoted: str) -> str:
        assert chat.last is not None
        return (await answered(room, legacy_reply(chat.last.event_id, bot_id, quoted, text))).body

    async def edit(text: str) -> str | None:
        return await unanswered(room, edit_of(chat.mine, text))

    async def welcome() -> str:
        new = await person.create_dm(bot_id, encrypted=encrypted)
        return (await person.next_notice(new, 0)).body

    async def shared_room() -> str:
        # The person, a colleague and the bot: a room that was never a direct chat.
        if not chat.shared:
            colleague = running.colleague
            shared = await person.create_dm(
                bot_id, encrypted=encrypted, others=(colleague.user.user_id,)
            )
            await colleague.wait_for(lambda: shared in colleague.invites)
            await colleague.client.join(shared)
            await colleague.wait_joined(shared, bot_id)  # their client knows the room
            await person.wait_joined(shared, bot_id)
            await person.wait_joined(shared, colleague.user.user_id)
            chat.shared = shared
        return chat.shared

    async def say(text: str) -> str | None:
        return await unanswered(await shared_room(), {"msgtype": "m.text", "body": text})

    async def address(text: str) -> Addressed:
        shared = await shared_room()
        known = set(person.invites)
        seen = await answered(shared, mention(bot_id, bot_id[1:].split(":")[0], text))
        await person.sync(0)  # an invite is sent before the notice that announces it
        invited = [
            r
            for r in person.invites
            if r not in known
            and getattr(person.client.invited_rooms.get(r), "inviter", None) == bot_id
        ]
        return Addressed(seen.body, opens_direct=bool(invited))

    async def colleague_replies(text: str, quoted: str) -> str | None:
        shared = await shared_room()
        me = person.user.user_id
        # The quoted message's HTML holds a pill to the bot, as Element wrote it.
        pill = f'<a href="https://matrix.to/#/{bot_id}">Wegwijzer</a>'
        quoted_html = html.escape(quoted).replace("Wegwijzer", pill, 1)
        content = legacy_reply(chat.shared_mine, me, quoted, text, quoted_html)
        content["m.mentions"] = {"user_ids": [me]}  # Element mentions whom you reply to
        return await unanswered(shared, content, by=running.colleague)

    def captured() -> str:
        out, err = capfd.readouterr()
        output.append(out + err)
        return running.logs.getvalue() + "".join(output)

    return Harness(
        send=send,
        written=[running.data_dir],
        captured=captured,
        reply=reply,
        edit=edit,
        shared=Shared(say=say, address=address, reply=colleague_replies),
        welcome=welcome,
    )


class TestMatrixContract(AdapterContract):
    pass
