"""What real Matrix clients send (issue 12): reply fallbacks, rejoining, threads, direct
or shared rooms, edits, HTML-only messages and pills, pictures and stickers. Each case
runs against the real Synapse with a canary the bot must never store, log or echo."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest

from bot import Engine
from tests.matrix.helpers import (
    HTML,
    People,
    Person,
    Seen,
    bot_env,
    legacy_reply,
    quiet,
    running_bot,
)
from tests.matrix.proxy import failing_joins
from tests.matrix.synapse import Synapse, User

pytestmark = pytest.mark.matrix


def new_canary() -> str:
    return f"kanarie{uuid.uuid4().hex}"


def assert_private(canary: str, data_dir: Path, logs: io.StringIO, *seen: Seen) -> None:
    for s in seen:
        assert canary not in s.body + s.formatted
    assert canary not in logs.getvalue()
    for path in [p for p in data_dir.rglob("*") if p.is_file()]:
        assert canary.encode() not in path.read_bytes(), path


def quoting(quoted: Seen, sender: str, text: str) -> dict[str, Any]:
    """A reply to a message the person saw, with the legacy fallback."""
    return legacy_reply(quoted.event_id, sender, quoted.body, text, quoted.formatted)


async def direct_chat(person: Person, bot: User, *, encrypted: bool = True) -> str:
    room = await person.create_dm(bot.user_id, encrypted=encrypted)
    await person.next_notice(room, 0)
    return room


async def shared_room(people: People, bot: User) -> tuple[Person, Person, str]:
    alice = await people("alice")
    bob = await people("bob")
    room = await alice.create_dm(bot.user_id, encrypted=True, others=(bob.user.user_id,))
    await bob.wait_for(lambda: room in bob.invites)
    await bob.client.join(room)
    await alice.wait_joined(room, bot.user_id)
    await alice.wait_joined(room, bob.user.user_id)
    return alice, bob, room


# ---------------------------------------------------------------- 1. reply fallback


async def test_a_reply_is_read_as_the_persons_own_words(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await direct_chat(person, bot_user)
        menu = await person.ask(room, "menu")
        second = next(line[3:] for line in menu.body.split("\n") if line.startswith("2. "))
        menu.body += f"\n{canary}"  # the quote carries the canary: it must not be read
        before = len(person.notices(room))
        await person.send_content(room, quoting(menu, bot_user.user_id, "2"))
        theme = await person.next_notice(room, before)
        assert theme.body.startswith(second)  # the second theme, not a "did you mean"

        answer = await person.ask(room, f"ik word gepest {canary}")
        before = len(person.notices(room))
        await person.send_content(room, quoting(answer, bot_user.user_id, "vergeet"))
        bye = await person.next_notice(room, before)
        assert "Verwijderen" in bye.body  # it forgot, and says how to remove their messages
        await person.wait_for(lambda: any(e.membership == "leave" for e in person.events))
        await person.wait_for(lambda: answer.event_id in person.redacted)
    assert_private(canary, data_dir, logs, theme, answer, bye)


async def test_a_quoted_mention_is_no_address_in_a_shared_room(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        alice, bob, room = await shared_room(people, bot_user)
        menu = await alice.ask(room, f"{bot_user.user_id}: menu")
        asked = Seen("$x", room, "m.room.message", f"{bot_user.user_id}: menu {canary}")
        await bob.wait_for(lambda: bob.notices(room))
        reply = quoting(asked, alice.user.user_id, f"haha {canary}")
        reply["m.mentions"] = {"user_ids": [alice.user.user_id]}  # as Element fills it
        await bob.send_content(room, reply)
        # Events are answered in order: an answer to Bob would come before this one.
        privacy = await alice.ask(room, f"{bot_user.user_id}: privacy")
        assert alice.notices(room) == [menu, privacy]
    assert_private(canary, data_dir, logs, menu, privacy)


# ---------------------------------------------------------------- 2. rejoin


async def test_invited_back_after_forget_also_after_a_restart(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    env = bot_env(synapse, bot_user, data_dir)
    person = await people()

    async def forget_and_wait(room: str) -> None:
        await person.ask(room, "vergeet")
        await person.wait_for(lambda: person.client.rooms[room].users.get(bot_user.user_id) is None)

    async with running_bot(engine, env):
        room = await direct_chat(person, bot_user)
        assert "Pesten" in (await person.ask(room, f"ik word gepest {canary}")).body
        await forget_and_wait(room)
        before = len(person.notices(room))
        await person.client.room_invite(room, bot_user.user_id)
        welcome = await person.next_notice(room, before)
        assert "<ol>" in welcome.formatted  # greeted again, as a direct chat
        assert "Pesten" in (await person.ask(room, f"ik word gepest {canary}")).body
        await forget_and_wait(room)
    async with running_bot(engine, env):
        before = len(person.notices(room))
        await person.client.room_invite(room, bot_user.user_id)
        welcome = await person.next_notice(room, before)
        assert "<ol>" in welcome.formatted
        assert "Pesten" in (await person.ask(room, "ik word gepest")).body
        # Nothing from before the invite is answered again (no second "vergeet").
        assert len(person.notices(room)) == before + 2
    assert_private(canary, data_dir, logs, *person.notices(room))


async def test_a_failed_join_is_retried_with_backoff(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    async with failing_joins(synapse.url, failures=2) as proxy:
        env = bot_env(synapse, bot_user, data_dir, WEGWIJZER_MATRIX_HOMESERVER=proxy.url)
        async with running_bot(engine, env):
            person = await people()
            room = await person.create_dm(bot_user.user_id, encrypted=True)
            welcome = await person.next_notice(room, 0)
            answer = await person.ask(room, f"ik word gepest {canary}")
            assert "Pesten" in answer.body
    assert proxy.failed == 2
    assert "could not join a room (homeserver said M_UNKNOWN); retrying" in logs.getvalue()
    assert_private(canary, data_dir, logs, welcome, answer)


# ---------------------------------------------------------------- 3. threads


async def test_a_thread_is_answered_in_the_thread(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await direct_chat(person, bot_user)
        root = (await person.ask(room, "menu")).event_id
        before = len(person.notices(room))
        mine = await person.send_content(
            room,
            {
                "msgtype": "m.text",
                "body": f"ik word gepest {canary}",
                "m.relates_to": {
                    "rel_type": "m.thread",
                    "event_id": root,
                    "is_falling_back": True,
                    "m.in_reply_to": {"event_id": root},
                },
            },
        )
        seen = await person.next_notice(room, before)
        assert "Pesten" in seen.body and seen.encrypted
        assert seen.relates == {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": mine},
        }
        main = await person.ask(room, "privacy")
        assert main.relates == {}  # the main timeline stays the main timeline
    assert_private(canary, data_dir, logs, seen, main)


# ---------------------------------------------------------------- 4. direct or shared


async def test_a_room_that_was_ever_shared_stays_shared(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    env = bot_env(synapse, bot_user, data_dir)
    async with running_bot(engine, env) as running:
        alice = await people("alice")
        bob = await people("bob")
        room = await direct_chat(alice, bot_user)
        assert "Pesten" in (await alice.ask(room, f"ik word gepest {canary}")).body
        assert any(room in rooms for rooms in running.bot.rooms.direct.values())  # m.direct
        await alice.client.room_invite(room, bob.user.user_id)
        await bob.wait_for(lambda: room in bob.invites)
        await bob.client.join(room)
        await alice.wait_joined(room, bob.user.user_id)
        await quiet(alice, 1.0)
        await bob.client.room_leave(room)
        await alice.wait_for(lambda: bob.user.user_id not in alice.client.rooms[room].users)
        # Two members again, but a former shared room: no personal answer, an offer instead.
        shared = await alice.ask(room, f"ik word gepest {canary}")
        assert "privéchat" in shared.body and "Pesten" not in shared.body
    async with running_bot(engine, env) as running:
        again = await alice.ask(room, "ik word gepest door mijn leidinggevende")
        assert "privéchat" in again.body and "Pesten" not in again.body
        assert not any(room in rooms for rooms in running.bot.rooms.direct.values())
    assert_private(canary, data_dir, logs, shared, again)


async def test_a_room_not_started_as_a_direct_chat_is_shared(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        # A plain room with only the person and the bot, without `is_direct`: Element
        # shows it as a room, and so does the bot (no welcome, no personal answers).
        resp = await person.client.room_create(invite=[bot_user.user_id])
        room = resp.room_id
        await person.wait_joined(room, bot_user.user_id)
        seen = await person.ask(room, f"ik word gepest {canary}")
        assert "privéchat" in seen.body and "Pesten" not in seen.body
        assert len(person.notices(room)) == 1
    assert_private(canary, data_dir, logs, seen)


# ---------------------------------------------------------------- 5. edits


async def test_edits_are_ignored(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await direct_chat(person, bot_user)
        await person.ask(room, "menu")
        theme = await person.ask(room, "1")
        before = len(person.notices(room))
        await person.send_content(
            room,
            {
                "msgtype": "m.text",
                "body": f"* 2 {canary}",
                "m.new_content": {"msgtype": "m.text", "body": "2"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": theme.event_id},
            },
        )
        # Events are answered in order: an answer to the edit would come before this one.
        later = await person.ask(room, f"ik word gepest {canary}")
        assert "Pesten" in later.body
        assert len(person.notices(room)) == before + 1  # no second answer to an edited "1"
    assert_private(canary, data_dir, logs, later)


# ---------------------------------------------------------------- 6. HTML only, pills


async def test_html_only_messages_are_read_and_a_pill_anywhere_addresses_the_bot(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    canary = new_canary()
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await direct_chat(person, bot_user)
        before = len(person.notices(room))
        # Synapse checks plain messages from its own users, not encrypted ones: this is
        # how a message with only `formatted_body` reaches the bot.
        await person.send_content(
            room,
            {
                "msgtype": "m.text",
                "format": HTML,
                "formatted_body": f"<p>ik word <em>gepest</em> <!-- {canary} --></p>",
            },
        )
        html_only = await person.next_notice(room, before)
        assert "Pesten" in html_only.body

        alice, _bob, shared = await shared_room(people, bot_user)
        await alice.send_content(
            shared,
            {
                "msgtype": "m.text",
                "body": f"menu {canary} Wegwijzer",
                "format": HTML,
                "formatted_body": (
                    f'menu <a href="https://matrix.to/#/{bot_user.user_id}">Wegwijzer</a>'
                ),
            },
        )
        menu = await alice.next_notice(shared, 0)
        assert "<ol>" in menu.formatted and "1. " in menu.body
    assert_private(canary, data_dir, logs, html_only, menu)


# ---------------------------------------------------------------- 12. pictures and files


@pytest.mark.parametrize(
    ("event_type", "msgtype"),
    [
        ("m.room.message", "m.image"),
        ("m.room.message", "m.file"),
        ("m.room.message", "m.audio"),
        ("m.room.message", "m.video"),
        ("m.sticker", ""),
    ],
    ids=["image", "file", "voice", "video", "sticker"],
)
async def test_pictures_files_voice_and_stickers_get_a_clear_answer(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
    event_type: str,
    msgtype: str,
) -> None:
    canary = new_canary()
    content: dict[str, object] = {
        "body": f"{canary}.bin",
        "url": "mxc://wegwijzer.test/abc",
        "info": {"mimetype": "application/octet-stream", "size": 3},
    }
    if msgtype:
        content["msgtype"] = msgtype
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await direct_chat(person, bot_user)
        before = len(person.notices(room))
        await person.send_content(room, content, event_type)
        seen = await person.next_notice(room, before)
        assert "Foto's, bestanden" in seen.body and "<ol>" in seen.formatted

        alice, _bob, shared = await shared_room(people, bot_user)
        await alice.send_content(shared, content, event_type)
        menu = await alice.ask(shared, f"{bot_user.user_id}: menu")
        assert alice.notices(shared) == [menu]  # the picture, unaddressed, got nothing
    assert_private(canary, data_dir, logs, seen)
