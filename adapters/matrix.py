"""The Matrix channel: direct chats (end-to-end encrypted or plain) through a homeserver.

Built on matrix-nio with its vodozemac crypto store. One sync loop receives everything;
each event is handled on its own, so a failing handler never stops the loop. The sync
token is kept by nio's store and saved *before* the events of a sync are handled, so a
restart never answers an old message or one twice (at most once, never twice).

Privacy: nothing a person writes is stored or logged. nio logs event bodies in some
warnings and whole sync responses at debug, so its loggers (and peewee's, under nio's
store) are cut off from the root logger and re-emitted with their text withheld. The
only files written are under `WEGWIJZER_DATA_DIR/matrix`: nio's crypto store (keys,
sessions, sync token, no message content) and `session.json` (device id, and the access
token when the bot logged in with a password).

Settings (environment; a `KEY=VALUE` file named by `WEGWIJZER_MATRIX_CONFIG` may offer
the same keys, the environment wins) are described in docs/matrix.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import logging
import os
import random
import re
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    BadEvent,
    ErrorResponse,
    InviteMemberEvent,
    JoinedMembersResponse,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessage,
    RoomMessageEmote,
    RoomMessageNotice,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPreset,
    RoomVisibility,
    SyncResponse,
    UnknownBadEvent,
    WhoamiResponse,
)
from nio.exceptions import EncryptionError

from bot import (
    ACTION_OPEN_DIRECT,
    Channel,
    Contact,
    ContactMethod,
    Engine,
    Lang,
    Message,
    Reply,
    ReplyKind,
    conversation_key,
    default_data_dir,
)

log = logging.getLogger("adapters.matrix")

T = TypeVar("T")

#: Third-party loggers that may carry event content; their text never leaves this module.
_GUARDED_LOGGERS = ("nio", "peewee")
_SEEN_EVENTS = 5000
_OFFER_SECONDS = 30 * 60
#: How long an undecryptable message waits for its room key before the person is told.
UNDECRYPTABLE_WAIT_SECONDS = 4.0
_FORGET_PAGES = 20

_TEXTS: dict[str, dict[Lang, str]] = {
    "undecryptable": {
        "nl": (
            "Ik kon je laatste bericht niet ontsleutelen, dus ik weet niet wat je schreef. "
            "Stuur het nog eens. Lukt het dan nog niet, verlaat dan deze chat en begin een "
            "nieuwe privéchat met mij."
        ),
        "en": (
            "I could not decrypt your last message, so I do not know what you wrote. "
            "Please send it again. If that does not work either, leave this chat and start "
            "a new private chat with me."
        ),
    },
    "forget_matrix": {
        "nl": (
            "Ik heb mijn eigen berichten in deze chat verwijderd en verlaat de chat nu. "
            "Je eigen berichten verwijder je zo: ga met de muis over een bericht (of houd "
            "het ingedrukt), kies ⋯ en dan Verwijderen. Daarna kun je de chat verlaten en "
            "vergeten in de chat-instellingen."
        ),
        "en": (
            "I have removed my own messages in this chat and am leaving it now. To remove "
            "yours: hover over a message (or press and hold it), choose ⋯ and then Remove. "
            "Then leave the chat and forget it in the chat settings."
        ),
    },
    "opened_direct": {
        "nl": "Ik heb je uitgenodigd voor een privéchat. Accepteer de uitnodiging, dan praten "
        "we daar verder.",
        "en": "I have invited you to a private chat. Accept the invitation and we will "
        "continue there.",
    },
    "open_direct_failed": {
        "nl": "Het lukte niet om een privéchat te openen. Start zelf een privéchat met mij.",
        "en": "I could not open a private chat. Please start a private chat with me yourself.",
    },
}

# ---------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the Matrix adapter needs, validated; see `load_settings`."""

    homeserver: str
    user_id: str
    password: str
    access_token: str
    pickle_key: str
    allowed: tuple[str, ...]
    data_dir: Path
    device_name: str = "Wegwijzer"
    sync_timeout_ms: int = 30_000
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0

    @property
    def domain(self) -> str:
        return self.user_id.split(":", 1)[1]

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "matrix"

    def allows(self, user_id: str) -> bool:
        """Whether `user_id` may invite the bot: listed itself, or its domain is listed."""
        domain = user_id.split(":", 1)[1] if ":" in user_id else ""
        return any(a == user_id or (not a.startswith("@") and a == domain) for a in self.allowed)


_USER_ID = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def read_config_file(path: Path) -> dict[str, str]:
    """A `KEY=VALUE` file (blank lines and `#` comments allowed); raises ValueError."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read WEGWIJZER_MATRIX_CONFIG {path}: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _number(values: Mapping[str, str], key: str, default: float, low: float, high: float) -> float:
    raw = values.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{key} must be between {low:g} and {high:g}")
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and check the Matrix settings; raises ValueError naming what is wrong."""
    values: dict[str, str] = {}
    config = env.get("WEGWIJZER_MATRIX_CONFIG", "").strip()
    if config:
        values.update(read_config_file(Path(config)))
    values.update({k: v for k, v in env.items() if v.strip()})

    homeserver = values.get("WEGWIJZER_MATRIX_HOMESERVER", "").strip().rstrip("/")
    parts = urlsplit(homeserver)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("WEGWIJZER_MATRIX_HOMESERVER must be an http(s) URL")
    user_id = values.get("WEGWIJZER_MATRIX_USER", "").strip()
    if not _USER_ID.match(user_id):
        raise ValueError("WEGWIJZER_MATRIX_USER must be a full user id like @wegwijzer:example.org")
    password = values.get("WEGWIJZER_MATRIX_PASSWORD", "")
    token = values.get("WEGWIJZER_MATRIX_ACCESS_TOKEN", "").strip()
    if not password and not token:
        raise ValueError("set WEGWIJZER_MATRIX_PASSWORD or WEGWIJZER_MATRIX_ACCESS_TOKEN")
    pickle_key = values.get("WEGWIJZER_MATRIX_PICKLE_KEY", "")
    if len(pickle_key) < 16:
        raise ValueError(
            "WEGWIJZER_MATRIX_PICKLE_KEY must be set (at least 16 characters): it protects "
            "the encryption keys stored on disk"
        )
    domain = user_id.split(":", 1)[1]
    allowed = tuple(
        a.strip() for a in values.get("WEGWIJZER_MATRIX_ALLOWED", domain).split(",") if a.strip()
    )
    for entry in allowed:
        if entry.startswith("@") and not _USER_ID.match(entry):
            raise ValueError(f"WEGWIJZER_MATRIX_ALLOWED: {entry!r} is not a valid user id")
    if not allowed:
        raise ValueError("WEGWIJZER_MATRIX_ALLOWED is empty: nobody could invite the bot")
    base = _number(values, "WEGWIJZER_MATRIX_RETRY_BASE_SECONDS", 1.0, 0.001, 60)
    return Settings(
        homeserver=homeserver,
        user_id=user_id,
        password=password,
        access_token=token,
        pickle_key=pickle_key,
        allowed=allowed,
        data_dir=default_data_dir(values),
        device_name=values.get("WEGWIJZER_MATRIX_DEVICE_NAME", "Wegwijzer").strip(),
        sync_timeout_ms=int(
            _number(values, "WEGWIJZER_MATRIX_SYNC_TIMEOUT_MS", 30_000, 0, 120_000)
        ),
        retry_base_seconds=base,
        retry_max_seconds=_number(values, "WEGWIJZER_MATRIX_RETRY_MAX_SECONDS", 60.0, base, 3600),
    )


# ---------------------------------------------------------------------------- privacy


class _WithheldHandler(logging.Handler):
    """Passes third-party records on to the root handlers with their text removed."""

    def emit(self, record: logging.LogRecord) -> None:
        record.msg = "(third-party log text withheld)"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        for handler in logging.getLogger().handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


def guard_third_party_logging() -> None:
    """Cut nio's and peewee's loggers off from their own text, whatever else is configured."""
    for name in _GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        if not any(isinstance(h, _WithheldHandler) for h in logger.handlers):
            logger.addHandler(_WithheldHandler())
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


# ---------------------------------------------------------------------------- rendering

_SAFE_URL = re.compile(r"^(https?://|mailto:|tel:)", re.IGNORECASE)


def _link(href: str, label: str) -> str:
    if not _SAFE_URL.match(href):
        return html.escape(label)
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(label)}</a>'


def _method_html(m: ContactMethod) -> str:
    note = f" ({html.escape(m.note)})" if m.note else ""
    hrefs = {
        "phone": "tel:" + re.sub(r"[^0-9+]", "", m.value),
        "email": "mailto:" + m.value,
        "url": m.value,
        "chat": m.value,
        "matrix": "https://matrix.to/#/" + m.value,
    }
    href = hrefs.get(m.kind)
    return (_link(href, m.value) if href else html.escape(m.value)) + note


def _contact_html(c: Contact) -> str:
    head = f"<strong>{html.escape(c.name)}</strong>"
    if c.organisation:
        head += f" ({html.escape(c.organisation)})"
    if c.role_line:
        head += f": {html.escape(c.role_line)}"
    extra = [", ".join(_method_html(m) for m in c.methods)] if c.methods else []
    if c.languages:
        extra.append(html.escape("/".join(c.languages)))
    if c.location:
        extra.append(html.escape(c.location))
    return f"<li>{head}{'<br>' + ' · '.join(extra) if extra else ''}</li>"


def _text_html(text: str) -> str:
    out: list[str] = []
    for para in text.split("\n\n"):
        lines = [line for line in para.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append("<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>")
    return "".join(out)


def render_html(reply: Reply) -> str:
    """The reply as Matrix HTML: every text escaped, choices as an ordered list."""
    parts: list[str] = []
    if reply.crisis is not None:
        parts.append(f"<p><strong>{html.escape(reply.crisis.text)}</strong></p>")
        if reply.crisis.contacts:
            parts.append(
                "<ul>" + "".join(_contact_html(c) for c in reply.crisis.contacts) + "</ul>"
            )
    if reply.title:
        parts.append(f"<h4>{html.escape(reply.title)}</h4>")
    parts.append(_text_html(reply.text))
    if reply.sources:
        head = html.escape(reply.labels.get("sources", "Sources"))
        items = "".join(
            f"<li>{_link(s.url, s.title)}{f' ({html.escape(s.article)})' if s.article else ''}</li>"
            for s in reply.sources
        )
        checked = ""
        if reply.reviewed is not None:
            label = html.escape(reply.labels.get("reviewed", "Checked"))
            checked = f"<br><em>{label}: {reply.reviewed.isoformat()}</em>"
        parts.append(f"<p><em>{head}:</em></p><ul>{items}</ul>{checked}")
    if reply.choices:
        if reply.choices_prompt:
            parts.append(f"<p>{html.escape(reply.choices_prompt)}</p>")
        start = reply.choices[0].number
        attr = f' start="{start}"' if start != 1 else ""
        items = "".join(f"<li>{html.escape(c.label)}</li>" for c in reply.choices)
        parts.append(f"<ol{attr}>{items}</ol>")
    if reply.contacts:
        if reply.contacts_intro:
            parts.append(f"<p><strong>{html.escape(reply.contacts_intro)}</strong></p>")
        parts.append("<ul>" + "".join(_contact_html(c) for c in reply.contacts) + "</ul>")
    if reply.footer:
        parts.append(f"<p><em>{html.escape(reply.footer)}</em></p>")
    return "".join(p for p in parts if p)


def notice(body: str, formatted: str | None = None) -> dict[str, Any]:
    """An `m.notice` content: clean plain body, escaped HTML beside it."""
    return {
        "msgtype": "m.notice",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted if formatted is not None else _text_html(body),
    }


def render(reply: Reply) -> dict[str, Any]:
    """The content of the `m.notice` event for one reply."""
    return notice(reply.plain_text(), render_html(reply))


# ---------------------------------------------------------------------------- the bot


class _Seen:
    """Bounded set of event ids already handled (ids only, never content)."""

    def __init__(self, size: int = _SEEN_EVENTS) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """Record `event_id`; False if it was seen before."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


@dataclass(slots=True)
class _Pending:
    room_id: str
    event: MegolmEvent
    deadline: float


class MatrixBot:
    """One logged-in bot device and its sync loop."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.user_id = settings.user_id
        self.client: AsyncClient | None = None
        #: Set after each successful sync; tests and benchmarks wait on it.
        self.synced = asyncio.Event()
        self.sync_count = 0
        self._seen = _Seen()
        self._invites_done: set[str] = set()
        self._welcome: dict[str, str | None] = {}
        self._offers: dict[str, tuple[float, dict[int, str]]] = {}
        self._pending: dict[str, _Pending] = {}

    # ------------------------------------------------------------ start and loop

    def _new_client(self, device_id: str | None) -> AsyncClient:
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=True,
            pickle_key=self.settings.pickle_key,
            # 429s and connection errors come back to us: we back off with jitter ourselves.
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=60,
        )
        return AsyncClient(
            self.settings.homeserver,
            self.user_id,
            device_id=device_id or "",
            store_path=str(self.settings.store_dir),
            config=config,
        )

    @property
    def _session_file(self) -> Path:
        return self.settings.store_dir / "session.json"

    def _read_session(self) -> dict[str, str]:
        try:
            data = json.loads(self._session_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("user_id") != self.user_id:
            return {}
        return {k: str(v) for k, v in data.items()}

    def _write_session(self, data: dict[str, str]) -> None:
        tmp = self._session_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        tmp.replace(self._session_file)

    async def login(self) -> AsyncClient:
        """Restore the saved device, or log in once; never creates a device per start."""
        s = self.settings
        s.store_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(s.store_dir, 0o700)
        saved = self._read_session()
        if s.access_token:
            probe = self._new_client(None)
            probe.access_token = s.access_token
            try:
                who = await self._retry(probe.whoami, attempts=0)
            finally:
                await probe.close()
            if not isinstance(who, WhoamiResponse) or who.user_id != self.user_id:
                raise ValueError("WEGWIJZER_MATRIX_ACCESS_TOKEN was refused or is for another user")
            if not who.device_id:
                raise ValueError("WEGWIJZER_MATRIX_ACCESS_TOKEN has no device id")
            client = self._new_client(who.device_id)
            client.restore_login(self.user_id, who.device_id, s.access_token)
            self._write_session({"user_id": self.user_id, "device_id": who.device_id})
            return client
        if saved.get("access_token") and saved.get("device_id"):
            client = self._new_client(saved["device_id"])
            client.restore_login(self.user_id, saved["device_id"], saved["access_token"])
            try:
                who = await self._retry(client.whoami, attempts=0)
            except BaseException:
                await client.close()
                raise
            if isinstance(who, WhoamiResponse):
                return client
            await client.close()
            if not (isinstance(who, ErrorResponse) and who.status_code == "M_UNKNOWN_TOKEN"):
                raise ValueError("the homeserver did not accept the saved session")
            log.warning("saved Matrix session was revoked: logging in again")
        client = self._new_client(saved.get("device_id"))
        try:
            resp = await self._retry(
                lambda: client.login(s.password, device_name=s.device_name), attempts=0
            )
        except BaseException:
            await client.close()
            raise
        if not isinstance(resp, LoginResponse):
            await client.close()
            raise ValueError("Matrix login failed: check WEGWIJZER_MATRIX_USER and the password")
        self._write_session(
            {
                "user_id": self.user_id,
                "device_id": resp.device_id,
                "access_token": resp.access_token,
            }
        )
        return client

    async def run(self) -> None:
        """Log in and sync until cancelled. Never logs out: that would destroy the keys."""
        guard_third_party_logging()
        self.client = await self.login()
        try:
            await self._sync_loop(self.client)
        finally:
            await self.client.close()

    async def _sync_loop(self, client: AsyncClient) -> None:
        catch_up = client.loaded_sync_token is None
        if catch_up:
            log.info("first start on this device: old messages will not be answered")
        failures = 0
        sync_filter = {
            "room": {"timeline": {"limit": 50}, "state": {"lazy_load_members": False}},
            "presence": {"types": []},
        }
        while True:
            timeout = 500 if self._pending else self.settings.sync_timeout_ms
            resp: object
            try:
                resp = await client.sync(
                    timeout=timeout, sync_filter=sync_filter, full_state=catch_up
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Network errors, and anything nio raises while taking in a sync: the loop
                # must outlive them all. Logged by type only (messages may hold content).
                resp = exc
            if isinstance(resp, SyncResponse):
                if failures:
                    log.info("homeserver reachable again after %d failed syncs", failures)
                failures = 0
                await self._after_sync(client, resp, catch_up)
                catch_up = False
                continue
            delay = self.retry_delay(resp, failures)
            failures += 1
            log.warning("sync failed (%s); retrying in %.1fs", _describe(resp), delay)
            await asyncio.sleep(delay)

    def retry_delay(self, resp: object, failures: int) -> float:
        """`retry_after_ms` when rate limited, else exponential backoff with full jitter."""
        if isinstance(resp, ErrorResponse) and resp.status_code == "M_LIMIT_EXCEEDED":
            after = getattr(resp, "retry_after_ms", None)
            if after:
                return min(float(after) / 1000.0, self.settings.retry_max_seconds)
        s = self.settings
        cap = min(s.retry_max_seconds, s.retry_base_seconds * (2.0 ** min(failures, 40)))
        return random.uniform(cap / 2, cap)

    async def _retry(self, call: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
        """Call the homeserver; retry rate limits and connection errors with backoff.

        `attempts=0` retries for ever (logging in while the homeserver is still down).
        """
        for attempt in itertools.count():
            last = attempt == attempts - 1
            problem: object
            try:
                result = await call()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                if last:
                    raise
                problem = exc
            else:
                limited = (
                    isinstance(result, ErrorResponse) and result.status_code == "M_LIMIT_EXCEEDED"
                )
                if not limited or last:
                    return result
                log.info("rate limited by the homeserver; waiting as asked")
                problem = result
            if attempt % 10 == 0 and not isinstance(problem, ErrorResponse):
                log.warning("homeserver unreachable (%d attempts so far); retrying", attempt + 1)
            await asyncio.sleep(self.retry_delay(problem, attempt))
        raise AssertionError("unreachable")

    async def _after_sync(self, client: AsyncClient, resp: SyncResponse, catch_up: bool) -> None:
        await self._guarded(self._keys(client))
        for room_id, info in resp.rooms.invite.items():
            await self._guarded(self._on_invite(client, room_id, info.invite_state))
        for room_id, info in resp.rooms.join.items():
            for event in info.timeline.events:
                if not self._seen.add(event.event_id) or catch_up:
                    continue
                await self._guarded(self._on_event(client, room_id, event))
            if room_id in self._welcome and self._welcome[room_id] is None:
                del self._welcome[room_id]
                await self._guarded(self._send_welcome(client, room_id))
        await self._guarded(self._retry_pending(client))
        self.sync_count += 1
        self.synced.set()

    async def _keys(self, client: AsyncClient) -> None:
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

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

    # ------------------------------------------------------------ invites

    async def _on_invite(self, client: AsyncClient, room_id: str, state: list[Any]) -> None:
        if room_id in self._invites_done:
            return
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
        if invite is None:
            return  # not an invite for this bot
        self._invites_done.add(room_id)
        if not self.settings.allows(invite.sender):
            log.info("declined an invite from a user who is not allowed")
            await self._retry(lambda: client.room_leave(room_id))
            return
        resp = await self._retry(lambda: client.join(room_id))
        if isinstance(resp, ErrorResponse):
            log.warning("could not join a room: %s", resp.status_code)
            return
        self._welcome[room_id] = None

    async def _send_welcome(self, client: AsyncClient, room_id: str) -> None:
        room = client.rooms.get(room_id)
        if room is None or not await self._is_direct(client, room):
            return
        await self._send(client, room_id, render(self.engine.welcome("nl")))

    # ------------------------------------------------------------ events

    async def _on_event(self, client: AsyncClient, room_id: str, event: Any) -> None:
        room = client.rooms.get(room_id)
        if room is None or getattr(event, "sender", None) == self.user_id:
            return
        if isinstance(event, RoomMemberEvent):
            await self._on_member(client, room, event)
        elif isinstance(event, MegolmEvent):
            # Keys often arrive a moment after the message: wait a little before giving up.
            self._pending[event.event_id] = _Pending(
                room_id, event, time.monotonic() + UNDECRYPTABLE_WAIT_SECONDS
            )
        elif isinstance(event, RoomMessageNotice):
            return  # notices are for bots; answering them could start a loop with another bot
        elif isinstance(event, RoomMessageText | RoomMessageEmote):
            await self._on_text(client, room, event.sender, event.body, event.source)
        elif isinstance(event, RoomMessage):
            # Images, files, unknown msgtypes: nothing to read. Say so politely in a direct chat.
            if await self._is_direct(client, room):
                await self._on_text(client, room, event.sender, "", event.source)
        elif (
            isinstance(event, BadEvent | UnknownBadEvent)
            and event.type == "m.room.message"
            and await self._is_direct(client, room)
        ):
            # A message without msgtype or body: unreadable, answered like one.
            await self._on_text(client, room, event.sender, "", {})
        # Any other event type is not for us.

    async def _on_member(
        self, client: AsyncClient, room: MatrixRoom, event: RoomMemberEvent
    ) -> None:
        if event.membership == "join" and self._welcome.get(room.room_id) == event.state_key:
            del self._welcome[room.room_id]
            await self._send_welcome(client, room.room_id)
        elif event.membership in ("leave", "ban") and room.joined_count <= 1:
            # Everyone else left: nothing more to say here.
            await self._retry(lambda: client.room_leave(room.room_id))

    async def _retry_pending(self, client: AsyncClient) -> None:
        now = time.monotonic()
        for event_id, pending in list(self._pending.items()):
            try:
                event = client.decrypt_event(pending.event)
            except EncryptionError:
                if now < pending.deadline:
                    continue
                del self._pending[event_id]
                await self._guarded(self._undecryptable(client, pending))
                continue
            del self._pending[event_id]
            await self._guarded(self._on_event(client, pending.room_id, event))

    async def _undecryptable(self, client: AsyncClient, pending: _Pending) -> None:
        room = client.rooms.get(pending.room_id)
        if room is None or not await self._is_direct(client, room):
            return
        with contextlib.suppress(Exception):
            await client.request_room_key(pending.event)
        key = conversation_key("matrix", room.room_id)
        await self._send(client, room.room_id, notice(self._text("undecryptable", key)))

    def _text(self, name: str, key: str) -> str:
        state = self.engine.store.peek(key)
        lang: Lang = state.lang if state is not None and state.lang else "nl"
        return _TEXTS[name][lang]

    async def _is_direct(self, client: AsyncClient, room: MatrixRoom) -> bool:
        if not room.members_synced:
            await self._retry(lambda: client.joined_members(room.room_id))
        return bool(room.joined_count + room.invited_count <= 2)

    def _addressed(self, room: MatrixRoom, text: str, source: dict[str, Any]) -> str | None:
        """The text without the mention when the bot is addressed, else None."""
        content = source.get("content") if isinstance(source, dict) else None
        mentions = content.get("m.mentions") if isinstance(content, dict) else None
        mentioned = isinstance(mentions, dict) and self.user_id in (mentions.get("user_ids") or [])
        stripped = re.sub(re.escape(self.user_id) + r"\s*[:,]?", " ", text)
        mentioned = mentioned or stripped != text
        # A name only counts at the start ("Wegwijzer: ..."), as clients write a mention;
        # elsewhere in a sentence it is talk about the bot, not to it.
        names = {self.user_id[1:].split(":", 1)[0], room.user_name(self.user_id) or ""}
        for name in sorted(filter(None, names), key=len, reverse=True):
            pattern = re.compile(rf"^\s*@?{re.escape(name)}\s*[:,]", re.IGNORECASE)
            stripped, count = pattern.subn(" ", stripped)
            mentioned = mentioned or count > 0
        return stripped.strip() if mentioned else None

    async def _on_text(
        self, client: AsyncClient, room: MatrixRoom, sender: str, text: str, source: dict[str, Any]
    ) -> None:
        direct = await self._is_direct(client, room)
        if direct:
            key = conversation_key("matrix", room.room_id)
            channel = Channel.DIRECT
        else:
            addressed = self._addressed(room, text, source)
            if addressed is None:
                return
            text = addressed
            key = conversation_key("matrix", room.room_id, sender)
            channel = Channel.GROUP
            if self._offered(key, text) == ACTION_OPEN_DIRECT:
                await self._open_direct(client, room.room_id, sender, key)
                return
        reply = await self.engine.handle(Message(conversation=key, text=text, channel=channel))
        self._remember_offer(key, reply)
        if reply.kind is ReplyKind.FORGOTTEN and direct:
            await self._forget_room(client, room.room_id, key, reply)
            return
        await self._send(client, room.room_id, render(reply))

    def _remember_offer(self, key: str, reply: Reply) -> None:
        now = time.monotonic()
        for k in [k for k, (at, _) in self._offers.items() if now - at > _OFFER_SECONDS]:
            del self._offers[k]
        if reply.choices:
            self._offers[key] = (now, {c.number: c.action for c in reply.choices})
        else:
            self._offers.pop(key, None)

    def _offered(self, key: str, text: str) -> str | None:
        at, choices = self._offers.get(key, (0.0, {}))
        folded = text.strip().rstrip(".")
        if time.monotonic() - at > _OFFER_SECONDS or not folded.isdigit() or len(folded) > 3:
            return None
        return choices.get(int(folded))

    async def _open_direct(self, client: AsyncClient, group_id: str, user: str, key: str) -> None:
        self._offers.pop(key, None)
        resp = await self._retry(
            lambda: client.room_create(
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
            await self._send(client, group_id, notice(self._text("opened_direct", key)))
        else:
            await self._send(client, group_id, notice(self._text("open_direct_failed", key)))

    async def _forget_room(self, client: AsyncClient, room_id: str, key: str, reply: Reply) -> None:
        """Redact the bot's own messages, say how to remove theirs, and leave."""
        token = client.next_batch
        own: list[str] = []
        only_mine = {"senders": [self.user_id], "types": ["m.room.message", "m.room.encrypted"]}
        for _ in range(_FORGET_PAGES):
            page = await self._retry(
                lambda start=token: client.room_messages(  # type: ignore[misc]
                    room_id, start=start, limit=100, message_filter=only_mine
                )
            )
            if not isinstance(page, RoomMessagesResponse) or not page.chunk:
                break
            own.extend(
                e.event_id
                for e in page.chunk
                if e.sender == self.user_id and not getattr(e, "redacted", False)
            )
            if not page.end or page.end == token:
                break
            token = page.end
        for event_id in own:
            resp = await self._retry(lambda eid=event_id: client.room_redact(room_id, eid))  # type: ignore[misc]
            if isinstance(resp, ErrorResponse):
                log.warning("could not redact a message: %s", resp.status_code)
        body = f"{reply.plain_text()}\n\n{self._text('forget_matrix', key)}"
        await self._send(client, room_id, notice(body))
        self.engine.forget(key)
        self._offers.pop(key, None)
        await self._retry(lambda: client.room_leave(room_id))
        with contextlib.suppress(Exception):
            await client.room_forget(room_id)

    async def _send(self, client: AsyncClient, room_id: str, content: dict[str, Any]) -> None:
        room = client.rooms.get(room_id)
        if room is not None and room.encrypted and not room.members_synced:
            resp = await self._retry(lambda: client.joined_members(room_id))
            if not isinstance(resp, JoinedMembersResponse):
                log.warning("could not load the members of a room")
        sent = await self._retry(
            lambda: client.room_send(
                room_id, "m.room.message", content, ignore_unverified_devices=True
            )
        )
        if isinstance(sent, ErrorResponse):
            log.warning("could not send a reply: %s", sent.status_code)


def _describe(resp: object) -> str:
    if isinstance(resp, ErrorResponse):
        return f"homeserver said {resp.status_code}"
    if isinstance(resp, BaseException):
        return type(resp).__name__
    return type(resp).__name__


async def serve(engine: Engine, env: Mapping[str, str]) -> None:
    """Run the Matrix channel until cancelled; raises ValueError for missing or bad settings."""
    settings = load_settings(env)
    await MatrixBot(engine, settings).run()
