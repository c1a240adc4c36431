"""A person on Matrix: a real matrix-nio client (with its own crypto store) that talks to
the bot through the test homeserver, the way Element would."""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    LoginResponse,
    MegolmEvent,
    RedactionEvent,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessage,
    RoomPreset,
    RoomSendResponse,
    RoomVisibility,
    SyncResponse,
)

from adapters.matrix import load_settings
from adapters.matrix._bot import MatrixBot
from bot import Engine, configure_logging
from tests.matrix.synapse import Synapse, User

WAIT = 30.0


@dataclass
class Seen:
    """One event from the bot, as the person's client shows it."""

    event_id: str
    room_id: str
    type: str
    body: str = ""
    formatted: str = ""
    msgtype: str = ""
    encrypted: bool = False
    membership: str = ""
    relates: dict[str, Any] = field(default_factory=dict)


@dataclass
class Person:
    """A logged-in person with an encrypting client; collects what the bot sends."""

    server: Synapse
    user: User
    store: Path
    client: AsyncClient = field(init=False)
    events: list[Seen] = field(default_factory=list)
    invites: list[str] = field(default_factory=list)
    redacted: set[str] = field(default_factory=set)

    async def login(self) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        self.client = AsyncClient(
            self.server.url, self.user.user_id, store_path=str(self.store), config=config
        )
        resp = await self.client.login(self.user.password, device_name="test-person")
        assert isinstance(resp, LoginResponse), resp
        await self.sync(0)

    async def close(self) -> None:
        await self.client.close()

    async def sync(self, timeout_ms: int = 300) -> None:
        c = self.client
        resp = await c.sync(timeout=timeout_ms, full_state=c.next_batch is None)
        if not isinstance(resp, SyncResponse):
            return
        await c.send_to_device_messages()
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())
        self.invites.extend(resp.rooms.invite)
        for room_id, info in resp.rooms.join.items():
            for ev in info.timeline.events:
                if isinstance(ev, RedactionEvent):
                    self.redacted.add(ev.redacts)
                if getattr(ev, "sender", None) == self.user.user_id:
                    continue
                seen = Seen(ev.event_id, room_id, ev.source.get("type", ""))
                if isinstance(ev, RoomMessage):
                    content = ev.source.get("content", {})
                    seen.body = content.get("body", "")
                    seen.formatted = content.get("formatted_body", "")
                    seen.msgtype = content.get("msgtype", "")
                    seen.encrypted = bool(ev.decrypted)
                    seen.relates = content.get("m.relates_to") or {}
                elif isinstance(ev, MegolmEvent):
                    seen.type = "undecrypted"
                elif isinstance(ev, RoomMemberEvent):
                    seen.membership = ev.membership
                self.events.append(seen)
        for room_id, _info in resp.rooms.leave.items():
            self.events.append(Seen("", room_id, "left"))

    def notices(self, room_id: str) -> list[Seen]:
        return [e for e in self.events if e.room_id == room_id and e.msgtype == "m.notice"]

    async def wait_for(self, check: Any, within: float = WAIT) -> Any:
        """Sync until `check()` returns something truthy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            got = check()
            if got:
                return got
            await self.sync()
        raise AssertionError("timed out waiting for the bot")

    async def next_notice(self, room_id: str, after: int, within: float = WAIT) -> Seen:
        """The first bot notice in `room_id` beyond the `after` already seen."""
        found = await self.wait_for(lambda: self.notices(room_id)[after:], within)
        return found[0]  # type: ignore[no-any-return]

    async def create_dm(
        self, bot_id: str, *, encrypted: bool = True, others: tuple[str, ...] = ()
    ) -> str:
        initial = (
            [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
            if encrypted
            else []
        )
        resp = await self.client.room_create(
            visibility=RoomVisibility.private,
            is_direct=not others,
            preset=RoomPreset.trusted_private_chat,
            invite=[bot_id, *others],
            initial_state=initial,
        )
        assert isinstance(resp, RoomCreateResponse), resp
        return resp.room_id

    async def wait_joined(self, room_id: str, user_id: str) -> None:
        def joined() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and user_id in room.users and not room.users[user_id].invited

        await self.wait_for(joined)

    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        content = {"msgtype": "m.text", "body": text, **extra}
        resp = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(resp, RoomSendResponse), resp
        return resp.event_id

    async def send_content(
        self, room_id: str, content: dict[str, Any], event_type: str = "m.room.message"
    ) -> str:
        """Send any content as the person's client would (encrypted in encrypted rooms)."""
        resp = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True
        )
        assert isinstance(resp, RoomSendResponse), resp
        return resp.event_id

    async def raw_send(self, room_id: str, event_type: str, content: Any) -> tuple[int, Any]:
        """PUT an event as-is, unencrypted and unchecked (for malformed events)."""
        url = (
            f"{self.server.url}/_matrix/client/v3/rooms/{room_id}/send/"
            f"{event_type}/{uuid.uuid4().hex}"
        )
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.put(url, json=content, headers=headers) as r,
        ):
            return r.status, await r.json(content_type=None)

    async def ask(self, room_id: str, text: str, within: float = WAIT) -> Seen:
        before = len(self.notices(room_id))
        await self.say(room_id, text)
        return await self.next_notice(room_id, before, within)


HTML = "org.matrix.custom.html"


def legacy_reply(
    event_id: str, sender: str, quoted: str, text: str, quoted_html: str | None = None
) -> dict[str, Any]:
    """A reply to `event_id` with the legacy fallback, as older Element builds send it:
    the quoted lines ("> <sender> ...") before the person's words in `body`, and an
    `<mx-reply>` block (the quoted message's own HTML, if it had any) before them in
    `formatted_body`."""
    lines = quoted.split("\n")
    fallback = "\n".join([f"> <{sender}> {lines[0]}", *(f"> {line}" for line in lines[1:])])
    if quoted_html is None:
        quoted_html = "<br>".join(html.escape(line) for line in lines)
    return {
        "msgtype": "m.text",
        "body": f"{fallback}\n\n{text}",
        "format": HTML,
        "formatted_body": (
            f'<mx-reply><blockquote><a href="https://matrix.to/#/!r/{event_id}">'
            f'In reply to</a> <a href="https://matrix.to/#/{sender}">{sender}</a><br>'
            f"{quoted_html}</blockquote></mx-reply>{html.escape(text)}"
        ),
        "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
    }


def edit_of(event_id: str, text: str) -> dict[str, Any]:
    """An edit of `event_id` into `text`, as Element sends it."""
    return {
        "msgtype": "m.text",
        "body": f"* {text}",
        "m.new_content": {"msgtype": "m.text", "body": text},
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }


def mention(user_id: str, name: str, text: str) -> dict[str, Any]:
    """`text` addressed to `user_id` with a pill, as Element sends a mention."""
    return {
        "msgtype": "m.text",
        "body": f"{name}: {text}",
        "format": HTML,
        "formatted_body": (
            f'<a href="https://matrix.to/#/{user_id}">{name}</a>: {html.escape(text)}'
        ),
        "m.mentions": {"user_ids": [user_id]},
    }


async def quiet(person: Person, seconds: float = 1.5) -> None:
    """Give the bot time to (wrongly) answer, then take in what it sent."""
    await asyncio.sleep(seconds)
    await person.sync()


def bot_env(server: Synapse, bot: User, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        "WEGWIJZER_MATRIX_HOMESERVER": server.url,
        "WEGWIJZER_MATRIX_USER": bot.user_id,
        "WEGWIJZER_MATRIX_PASSWORD": bot.password,
        "WEGWIJZER_MATRIX_PICKLE_KEY": "test-pickle-key-0123456789",
        "WEGWIJZER_DATA_DIR": str(data_dir),
        "WEGWIJZER_MATRIX_RETRY_BASE_SECONDS": "0.05",
        "WEGWIJZER_MATRIX_RETRY_MAX_SECONDS": "1",
    }
    env.update(extra)
    return env


@dataclass
class RunningBot:
    bot: MatrixBot
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def running_bot(engine: Engine, env: dict[str, str]) -> AsyncIterator[RunningBot]:
    """The adapter's bot running in this event loop until the block ends."""
    bot = MatrixBot(engine, load_settings(env))
    task = asyncio.create_task(bot.run())
    running = RunningBot(bot, task)
    try:
        await wait_synced(running)
        yield running
    finally:
        await running.stop()


async def wait_synced(running: RunningBot, within: float = WAIT) -> None:
    done, _ = await asyncio.wait(
        [running.task, asyncio.ensure_future(running.bot.synced.wait())],
        timeout=within,
        return_when=asyncio.FIRST_COMPLETED,
    )
    if running.task in done:
        running.task.result()  # raises what stopped the bot
    assert running.bot.synced.is_set(), "the bot never synced"


def capture_logs(level: str = "DEBUG") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level, stream=stream)
    return stream


def is_error(resp: Any) -> bool:
    return isinstance(resp, ErrorResponse)


#: The `people` fixture: makes a fresh registered user, logged in, as a Person.
People = Callable[..., Awaitable[Person]]
