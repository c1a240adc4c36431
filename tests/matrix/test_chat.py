"""Direct chats, group rooms, invites and odd input, through the real homeserver."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from nio import RoomSendResponse

from bot import Engine
from tests.matrix.helpers import People, bot_env, running_bot
from tests.matrix.synapse import Synapse, User

pytestmark = pytest.mark.matrix


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_direct_chat_answers_as_notice_with_escaped_html(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    encrypted: bool,
) -> None:
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=encrypted)
        welcome = await person.next_notice(room, 0)
        assert welcome.encrypted is encrypted
        assert "<ol>" in welcome.formatted  # the start choices, numbered

        seen = await person.ask(room, "ik word gepest door mijn leidinggevende")
        assert seen.msgtype == "m.notice" and seen.encrypted is encrypted
        assert "Pesten" in seen.body and "https://" in seen.body
        assert '<a href="https://' in seen.formatted
        # Every tag in the HTML is one the renderer writes; all text is escaped.
        assert set(re.findall(r"</?([a-z0-9]+)", seen.formatted)) <= {
            "p",
            "br",
            "strong",
            "em",
            "h4",
            "ul",
            "ol",
            "li",
            "a",
            "details",
            "summary",
        }

        odd = await person.ask(room, "<script>alert(1)</script> &amp; <b>vet</b>")
        assert "<script" not in odd.formatted and "<b>" not in odd.formatted
        assert "alert" not in odd.body + odd.formatted  # nothing the person wrote is echoed

        menu = await person.ask(room, "menu")
        assert "<ol>" in menu.formatted and "1. " in menu.body
        theme = await person.ask(room, "1")
        assert theme.body != menu.body and "ken ik niet" not in theme.body


async def test_group_room_answers_only_when_addressed_and_opens_a_direct_chat(
    engine: Engine, synapse: Synapse, bot_user: User, data_dir: Path, people: People
) -> None:
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        alice = await people("alice")
        bob = await people("bob")
        room = await alice.create_dm(bot_user.user_id, encrypted=True, others=(bob.user.user_id,))
        await bob.wait_for(lambda: room in bob.invites)
        await bob.client.join(room)
        await alice.wait_joined(room, bot_user.user_id)
        await alice.wait_joined(room, bob.user.user_id)
        await alice.sync()
        assert alice.notices(room) == []  # no welcome in a shared room

        await alice.say(room, "ik word gepest door mijn leidinggevende")
        localpart = bot_user.user_id[1:].split(":")[0]
        await alice.say(room, f"ik denk dat {localpart} kan helpen")  # about it, not to it
        # An addressed message (its name, first) proves the earlier ones got no answer.
        menu = await alice.ask(room, f"{localpart.capitalize()}: menu")
        assert len(alice.notices(room)) == 1
        assert "<ol>" in menu.formatted
        reply = await alice.ask(room, f"{bot_user.user_id}: ik word gepest")
        assert "privéchat" in reply.body and "Pesten" not in reply.body
        assert "<ol>" in reply.formatted

        await alice.say(room, f"{bot_user.user_id}: 1")
        invited = await alice.wait_for(lambda: [r for r in alice.invites if r != room])
        direct = invited[0]
        opened = await alice.next_notice(room, 2)
        assert "uitgenodigd" in opened.body
        await alice.client.join(direct)
        welcome = await alice.next_notice(direct, 0)
        assert welcome.encrypted
        seen = await alice.ask(direct, "ik word gepest door mijn leidinggevende")
        assert "Pesten" in seen.body


async def test_invite_from_a_user_who_is_not_allowed_is_declined(
    engine: Engine, synapse: Synapse, bot_user: User, data_dir: Path, people: People
) -> None:
    allowed = await people("allowed")
    env = bot_env(synapse, bot_user, data_dir, WEGWIJZER_MATRIX_ALLOWED=allowed.user.user_id)
    async with running_bot(engine, env):
        mallory = await people("mallory")
        refused = await mallory.create_dm(bot_user.user_id)

        def bot_left() -> bool:
            return any(e.membership == "leave" for e in mallory.events if e.room_id == refused)

        await mallory.wait_for(bot_left)
        room = mallory.client.rooms[refused]
        assert bot_user.user_id not in room.users or room.users[bot_user.user_id].invited is False
        assert mallory.notices(refused) == []

        ok = await allowed.create_dm(bot_user.user_id)
        assert (await allowed.next_notice(ok, 0)).body


async def test_undecryptable_message_is_explained(
    engine: Engine, synapse: Synapse, bot_user: User, data_dir: Path, people: People
) -> None:
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=True)
        await person.next_notice(room, 0)
        # A message encrypted with a session the bot never received.
        status, _ = await person.raw_send(
            room,
            "m.room.encrypted",
            {
                "algorithm": "m.megolm.v1.aes-sha2",
                "sender_key": "x" * 43,
                "device_id": person.client.device_id,
                "session_id": "nosuchsession" + "a" * 30,
                "ciphertext": "AwgAEnB" + "A" * 100,
            },
        )
        assert status == 200
        seen = await person.next_notice(room, 1)
        assert "ontsleutelen" in seen.body and "nog eens" in seen.body
        # The chat still works afterwards.
        assert "Pesten" in (await person.ask(room, "ik word gepest")).body


async def test_forget_redacts_the_bots_messages_and_leaves(
    engine: Engine, synapse: Synapse, bot_user: User, data_dir: Path, people: People
) -> None:
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=True)
        await person.next_notice(room, 0)
        answer = await person.ask(room, "ik word gepest door mijn leidinggevende")
        bye = await person.ask(room, "vergeet")
        assert "Verwijderen" in bye.body  # how to remove their own messages
        await person.wait_for(
            lambda: any(e.type == "left" or e.membership == "leave" for e in person.events)
        )
        await person.wait_for(lambda: answer.event_id in person.redacted)
        earlier = [n.event_id for n in person.notices(room) if n.event_id != bye.event_id]
        assert set(earlier) <= person.redacted
        assert bye.event_id not in person.redacted


@pytest.mark.parametrize(
    ("event_type", "content"),
    [
        ("m.room.message", {"body": "zonder msgtype"}),
        ("m.room.message", {"msgtype": "nl.example.vreemd", "body": "?"}),
        ("m.room.message", {"msgtype": "m.text", "body": ["geen", "tekst"]}),
        ("m.room.message", {"msgtype": "m.text"}),
    ],
    ids=["no-msgtype", "unknown-msgtype", "body-not-text", "no-body"],
)
async def test_odd_messages_get_a_polite_answer(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
    event_type: str,
    content: dict[str, object],
) -> None:
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        # Synapse checks plain messages it receives from its own users, but cannot look
        # inside encrypted ones: that is how malformed messages reach a bot.
        room = await person.create_dm(bot_user.user_id, encrypted=True)
        await person.next_notice(room, 0)
        resp = await person.client.room_send(
            room, event_type, content, ignore_unverified_devices=True
        )
        assert isinstance(resp, RoomSendResponse), resp
        seen = await person.next_notice(room, 1)
        assert "kon je bericht niet lezen" in seen.body
        assert "handler failed" not in logs.getvalue()


async def test_unknown_events_and_oversized_messages_are_handled_quietly(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
) -> None:
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=False)
        await person.next_notice(room, 0)
        assert (await person.raw_send(room, "nl.example.custom", {"x": 1}))[0] == 200
        assert (await person.raw_send(room, "m.reaction", {"m.relates_to": {}}))[0] == 200
        # The homeserver refuses events over 64 KiB: the bot never sees them, and lives on.
        status, body = await person.raw_send(
            room, "m.room.message", {"msgtype": "m.text", "body": "x" * 70_000}
        )
        assert status == 413 and body["errcode"] == "M_TOO_LARGE"
        long = await person.ask(room, "ik word gepest " + "heel lang verhaal " * 1000)
        assert "erg lang" in long.body  # read the first part, and said so
        assert len(person.notices(room)) == 2  # the welcome and this one: nothing for the rest
        assert "handler failed" not in logs.getvalue()


async def test_access_token_instead_of_password(
    engine: Engine, synapse: Synapse, bot_user: User, data_dir: Path, people: People
) -> None:
    env = bot_env(synapse, bot_user, data_dir, WEGWIJZER_MATRIX_ACCESS_TOKEN=bot_user.access_token)
    del env["WEGWIJZER_MATRIX_PASSWORD"]
    async with running_bot(engine, env):
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=True)
        await person.next_notice(room, 0)
        assert "Pesten" in (await person.ask(room, "ik word gepest")).body
    # The token came from the environment: it is not copied to disk.
    assert bot_user.access_token not in (data_dir / "matrix" / "session.json").read_text()
