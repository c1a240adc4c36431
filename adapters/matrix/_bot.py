"""Event handling: invites, messages, direct chats and shared rooms, forgetting.

One sync loop (adapters/matrix/_client.py) hands each sync here; every event is handled
on its own, so a failing handler never stops the loop. Nothing a person writes is kept:
only event ids (to answer nothing twice) and, for rooms that were ever shared, a keyed
hash of the room id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

# matrix-nio ships no type information.
import aiohttp
from nio import (
    AsyncClient,
    BadEvent,
    ErrorResponse,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessage,
    RoomMessageEmote,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
    RoomVisibility,
    StickerEvent,
    SyncResponse,
    UnknownBadEvent,
)
from nio.exceptions import EncryptionError

from adapters._backoff import backoff_delay
from adapters.matrix._client import Connection, describe
from adapters.matrix._incoming import (
    Seen,
    after_own_arrival,
    read_message,
    thread_reply,
    without_name,
)
from adapters.matrix._privacy import guard_third_party_logging
from adapters.matrix._render import notice, render
from adapters.matrix._rooms import RoomKinds
from adapters.matrix._settings import Settings
from bot import Channel, Engine, Lang, Message, Reply, ReplyKind, conversation_key

log = logging.getLogger("adapters.matrix")

#: How long an undecryptable message waits for its room key before the person is told.
UNDECRYPTABLE_WAIT_SECONDS = 4.0
#: A join that keeps failing is given up after this many tries; a new invite starts over.
JOIN_ATTEMPTS = 10
#: Join errors that no retry can mend: the invite was withdrawn, or the bot is banned.
_JOIN_REFUSED = frozenset({"M_FORBIDDEN"})
_TEXT_TYPES = frozenset({"m.text", "m.emote"})
_MEDIA_TYPES = frozenset({"m.image", "m.file", "m.audio", "m.video"})


@dataclass(slots=True)
class _Pending:
    room_id: str
    event: MegolmEvent
    deadline: float


@dataclass(slots=True)
class _Join:
    inviter: str
    direct: bool
    attempt: int = 0
    due: float = 0.0


class MatrixBot:
    """One logged-in bot device: its sync loop and what it does with each event."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        claim: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.user_id = settings.user_id
        self.connection = Connection(settings)
        self.rooms = RoomKinds(settings.store_dir, settings.pickle_key)
        #: Set after each successful sync; tests and benchmarks wait on it.
        self.synced = asyncio.Event()
        self.sync_count = 0
        self._seen = Seen()
        #: With several replicas: claims an event across them, so a takeover that
        #: re-reads a sync never answers an event twice.
        self._claim = claim
        self._joins: dict[str, _Join] = {}
        self._welcome: dict[str, str | None] = {}
        self._pending: dict[str, _Pending] = {}

    @property
    def client(self) -> AsyncClient:
        return self.connection.client

    def retry_delay(self, resp: object, failures: int) -> float:
        return self.connection.retry_delay(resp, failures)

    async def run(self) -> None:
        """Log in and sync until cancelled. Never logs out: that would destroy the keys."""
        guard_third_party_logging()
        await self.connection.login()
        try:
            self.rooms.load()
            direct = await self.connection.get_direct()
            if direct is not None:
                self.rooms.use_direct(direct)
            await self.connection.sync_forever(self)
        finally:
            await self.connection.close()

    # ------------------------------------------------------------ each sync

    def wake_in(self) -> float | None:
        if self._pending:
            return 0.5
        dues = [j.due for j in self._joins.values() if j.due]
        return max(0.0, min(dues) - time.monotonic()) if dues else None

    async def after_sync(self, resp: SyncResponse, catch_up: bool) -> None:
        for data in resp.account_data_events:
            content = getattr(data, "content", None)
            if getattr(data, "type", "") == "m.direct" and isinstance(content, dict):
                self.rooms.use_direct(content)
        for room_id, info in resp.rooms.invite.items():
            await self._guarded(self._on_invite(room_id, info.invite_state))
        for room_id, info in resp.rooms.join.items():
            self._joins.pop(room_id, None)
            await self._guarded(self._check_shared(room_id))
            for event in after_own_arrival(self.user_id, info.timeline.events):
                if not self._seen.add(event.event_id) or catch_up:
                    continue
                if not await self._claimed(event):
                    continue
                await self._guarded(self._on_event(room_id, event))
            if room_id in self._welcome and self._welcome[room_id] is None:
                del self._welcome[room_id]
                await self._guarded(self._send_welcome(room_id))
        await self._guarded(self._retry_joins())
        await self._guarded(self._retry_pending())
        self.sync_count += 1
        self.synced.set()

    async def _claimed(self, event: Any) -> bool:
        """False when another replica already took this event (see adapters/_lease.py)."""
        if self._claim is None or getattr(event, "sender", None) == self.user_id:
            return True
        # Event ids are opaque, but keyed like conversations so Redis holds nothing to match.
        return await self._claim(conversation_key("matrix-event", event.event_id))

    async def _guarded(self, work: Awaitable[None]) -> None:
        """Run one handler; an error is logged by type and place only, never stops the loop."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Type and place only: exception messages may quote what the person wrote.
            frames = traceback.extract_tb(exc.__traceback__)
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
            log.error("handler failed: %s at %s", type(exc).__name__, where)

    # ------------------------------------------------------------ invites and joins

    async def _on_invite(self, room_id: str, state: list[Any]) -> None:
        invite = next(
            (
                e
                for e in state
                if isinstance(e, InviteMemberEvent)
                and e.state_key == self.user_id
                and e.membership == "invite"
            ),
            None,
        )
        if invite is None or room_id in self._joins:
            return  # not an invite for this bot, or one it is already acting on
        if not self.settings.allows(invite.sender):
            log.info("declined an invite from a user who is not allowed")
            await self.connection.retry(lambda: self.client.room_leave(room_id))
            return
        direct = isinstance(invite.content, dict) and invite.content.get("is_direct") is True
        self._joins[room_id] = _Join(invite.sender, direct)
        await self._join(room_id)

    async def _join(self, room_id: str) -> None:
        join = self._joins[room_id]
        resp: object
        try:
            resp = await self.connection.retry(lambda: self.client.join(room_id))
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            resp = exc  # the homeserver stayed unreachable through every quick retry
        if isinstance(resp, JoinResponse):
            del self._joins[room_id]
            direct = join.direct and not self.rooms.ever_group(room_id)
            if direct and self.rooms.add_direct(join.inviter, room_id):
                await self.connection.put_direct(self.rooms.direct)
            self._welcome[room_id] = None
            return
        join.attempt += 1
        refused = isinstance(resp, ErrorResponse) and resp.status_code in _JOIN_REFUSED
        if refused or join.attempt >= JOIN_ATTEMPTS:
            del self._joins[room_id]
            log.warning("could not join a room (%s); giving up until invited again", describe(resp))
            return
        s = self.settings
        delay = backoff_delay(join.attempt, base=s.retry_base_seconds, cap=s.retry_max_seconds)
        join.due = time.monotonic() + delay
        log.warning("could not join a room (%s); retrying in %.1fs", describe(resp), delay)

    async def _retry_joins(self) -> None:
        now = time.monotonic()
        for room_id in [r for r, j in self._joins.items() if j.due and j.due <= now]:
            await self._guarded(self._join(room_id))

    async def _send_welcome(self, room_id: str) -> None:
        room = self.client.rooms.get(room_id)
        if room is None or not await self._is_direct(room):
            return
        await self._send(room_id, render(self.engine.welcome("nl")))

    # ------------------------------------------------------------ direct or shared

    async def _check_shared(self, room_id: str) -> None:
        room = self.client.rooms.get(room_id)
        if room is not None and room.joined_count + room.invited_count > 2:
            await self._became_shared(room_id)

    async def _became_shared(self, room_id: str) -> None:
        if self.rooms.mark_group(room_id):
            log.info("a room has more than two members: it stays a shared room for good")
        if self.rooms.drop_direct(room_id):
            await self.connection.put_direct(self.rooms.direct)

    async def _is_direct(self, room: MatrixRoom) -> bool:
        if not room.members_synced:
            await self.connection.retry(lambda: self.client.joined_members(room.room_id))
        members = room.joined_count + room.invited_count
        if members > 2:
            await self._became_shared(room.room_id)
        return self.rooms.is_direct(room.room_id, members)

    # ------------------------------------------------------------ events

    async def _on_event(self, room_id: str, event: Any) -> None:
        room = self.client.rooms.get(room_id)
        if room is None or getattr(event, "sender", None) == self.user_id:
            return
        if isinstance(event, RoomMemberEvent):
            await self._on_member(room, event)
        elif isinstance(event, MegolmEvent):
            # Keys often arrive a moment after the message: wait a little before giving up.
            self._pending[event.event_id] = _Pending(
                room_id, event, time.monotonic() + UNDECRYPTABLE_WAIT_SECONDS
            )
        elif isinstance(event, RoomMessageNotice):
            return  # notices are for bots; answering them could start a loop with another bot
        elif isinstance(event, RoomMessageText | RoomMessageEmote):
            await self._on_message(room, event.sender, event.event_id, event.source)
        elif isinstance(event, RoomMessageMedia | RoomEncryptedMedia | StickerEvent):
            await self._on_unreadable(room, event.sender, event.event_id, event.source, "media")
        elif isinstance(event, RoomMessage):
            # Unknown msgtypes: nothing to read. Say so politely in a direct chat.
            await self._on_unreadable(room, event.sender, event.event_id, event.source)
        elif isinstance(event, BadEvent | UnknownBadEvent):
            await self._on_bad(room, event.source)
        # Any other event type is not for us.

    async def _on_bad(self, room: MatrixRoom, source: dict[str, Any]) -> None:
        """An event nio could not parse: a text message without `body` is still read
        from its HTML; anything else of type `m.room.message` gets the polite answer."""
        if source.get("type") != "m.room.message":
            return
        sender, event_id = str(source.get("sender", "")), str(source.get("event_id", ""))
        if sender == self.user_id:
            return
        content = source.get("content")
        msgtype = content.get("msgtype") if isinstance(content, dict) else None
        if msgtype in _TEXT_TYPES:
            await self._on_message(room, sender, event_id, source)
        elif msgtype != "m.notice":
            why = "media" if msgtype in _MEDIA_TYPES else ""
            await self._on_unreadable(room, sender, event_id, source, why)

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        if event.membership == "join" and self._welcome.get(room.room_id) == event.state_key:
            del self._welcome[room.room_id]
            await self._send_welcome(room.room_id)
        elif event.membership in ("leave", "ban") and room.joined_count <= 1:
            # Everyone else left: nothing more to say here.
            await self.connection.retry(lambda: self.client.room_leave(room.room_id))

    async def _retry_pending(self) -> None:
        now = time.monotonic()
        for event_id, pending in list(self._pending.items()):
            try:
                event = self.client.decrypt_event(pending.event)
            except EncryptionError:
                if now < pending.deadline:
                    continue
                del self._pending[event_id]
                await self._guarded(self._undecryptable(pending))
                continue
            del self._pending[event_id]
            await self._guarded(self._on_event(pending.room_id, event))

    async def _undecryptable(self, pending: _Pending) -> None:
        room = self.client.rooms.get(pending.room_id)
        if room is None:
            return
        with contextlib.suppress(Exception):
            await self.client.request_room_key(pending.event)
        event = pending.event
        await self._on_unreadable(room, event.sender, event.event_id, event.source, "undecryptable")

    def _text(self, name: str, lang: Lang) -> str:
        return self.engine.kb.text(f"matrix_{name}", lang)

    async def _on_unreadable(
        self,
        room: MatrixRoom,
        sender: str,
        event_id: str,
        source: Mapping[str, Any],
        why: str = "",
    ) -> None:
        """Nothing to read (a picture, file, sticker, unknown or undecryptable message):
        in a direct chat, say so in the person's language; in a shared room, nothing."""
        if not await self._is_direct(room):
            return
        content = source.get("content")
        relation = self._relation(content if isinstance(content, Mapping) else {}, event_id)
        key = conversation_key("matrix", room.room_id)
        reply = await self.engine.handle(Message(conversation=key, text=""))
        if why:
            reply = replace(reply, text=self._text(why, reply.lang))
        await self._send(room.room_id, render(reply), relation)

    def _relation(self, content: Mapping[str, Any], event_id: str) -> dict[str, Any] | None:
        root = read_message(content, self.user_id).thread_root
        return thread_reply(root, event_id) if root else None

    async def _on_message(
        self, room: MatrixRoom, sender: str, event_id: str, source: Mapping[str, Any]
    ) -> None:
        content = source.get("content")
        msg = read_message(content if isinstance(content, Mapping) else {}, self.user_id)
        if msg.edit:
            return  # an edit is not a new message: the original was answered already
        relation = thread_reply(msg.thread_root, event_id) if msg.thread_root else None
        direct = await self._is_direct(room)
        text = msg.text
        if direct:
            key = conversation_key("matrix", room.room_id)
            channel = Channel.DIRECT
        else:
            names = (self.user_id[1:].split(":", 1)[0], room.user_name(self.user_id) or "")
            text, named = without_name(text, names)
            # With one other person in the room, all they write is meant for the bot.
            alone = room.joined_count + room.invited_count <= 2
            if not (msg.mentioned or named or alone):
                return
            key = conversation_key("matrix", room.room_id, sender)
            channel = Channel.GROUP
        reply = await self.engine.handle(Message(conversation=key, text=text, channel=channel))
        if reply.kind is ReplyKind.OPEN_DIRECT and not direct:
            await self._open_direct(room.room_id, sender, reply, relation)
        elif reply.kind is ReplyKind.FORGOTTEN and direct:
            await self._forget_room(room.room_id, key, reply, relation)
        else:
            await self._send(room.room_id, render(reply), relation)

    async def _open_direct(
        self, group_id: str, user: str, reply: Reply, relation: dict[str, Any] | None
    ) -> None:
        resp = await self.connection.retry(
            lambda: self.client.room_create(
                visibility=RoomVisibility.private,
                is_direct=True,
                preset=RoomPreset.trusted_private_chat,
                invite=[user],
                initial_state=[
                    {
                        "type": "m.room.encryption",
                        "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                    }
                ],
            )
        )
        if isinstance(resp, RoomCreateResponse):
            self._welcome[resp.room_id] = user
            if self.rooms.add_direct(user, resp.room_id):
                await self.connection.put_direct(self.rooms.direct)
            text = self._text("opened_direct", reply.lang)
        else:
            text = self._text("open_direct_failed", reply.lang)
        await self._send(group_id, notice(text), relation)

    async def _forget_room(
        self, room_id: str, key: str, reply: Reply, relation: dict[str, Any] | None
    ) -> None:
        """Redact the bot's own messages, say how to remove theirs, and leave.

        The room stays in `m.direct`, so an invite back into it is a direct chat again.
        """
        client = self.client
        await self.connection.redact_own(room_id)
        body = f"{reply.plain_text()}\n\n{self._text('forget', reply.lang)}"
        await self._send(room_id, notice(body), relation)
        self.engine.forget(key)
        await self.connection.retry(lambda: client.room_leave(room_id))
        with contextlib.suppress(Exception):
            await client.room_forget(room_id)

    async def _send(
        self, room_id: str, content: dict[str, Any], relation: dict[str, Any] | None = None
    ) -> None:
        if relation is not None:
            content = {**content, "m.relates_to": relation}
        await self.connection.send(room_id, content)
