"""What a person wrote, read from a message's content the way Element shows it.

- The legacy reply fallback (`> <@someone> quoted lines` in `body`, an `<mx-reply>` block
  in `formatted_body`) is quoted text, not the person's words: it is dropped when the
  message is a reply, so a quoted menu or `@wegwijzer` is never read as theirs.
- `formatted_body` is read as text (some clients send only that); a mention pill
  (`<a href="https://matrix.to/#/@bot:...">`) anywhere in it addresses the bot.
- Relations: a thread message is answered in its thread; an edit is recognised so the
  caller can ignore it.
- Which events are new to the bot: ids already handled (`Seen`), and what a room held
  before the bot was (re)invited (`after_own_arrival`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

# matrix-nio ships no type information.
from nio import RoomMemberEvent

_SEEN_EVENTS = 5000
HTML_FORMAT = "org.matrix.custom.html"
_FALLBACK_HEAD = re.compile(r"^> (\* )?<[@!]")
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "tr", "h1", "h2", "h3", "h4"}
    | {"h5", "h6", "hr", "table", "details", "summary"}
)
_PILL = re.compile(r"^(?:https://matrix\.to/#/|matrix:u/)(@?[^/?#]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message, reduced to what the bot may act on.

    Attributes:
        text: The person's own words (quoted reply fallback removed, HTML read as text,
            mentions of the bot taken out).
        mentioned: The bot was addressed by `m.mentions`, a pill, or its user id.
        thread_root: The thread's root event when the message is in a thread.
        edit: The message is an edit (`m.replace`) of an earlier one.
    """

    text: str
    mentioned: bool
    thread_root: str | None = None
    edit: bool = False


class _HtmlText(HTMLParser):
    """Text of Matrix HTML: `<mx-reply>` skipped, pills to the bot taken out and noted."""

    def __init__(self, bot_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.bot_id = bot_id
        self.parts: list[str] = []
        self.pill = False
        self._quote = 0  # depth inside <mx-reply>
        self._skip_link = 0  # depth inside a pill to the bot

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mx-reply":
            self._quote += 1
        elif tag == "a" and (
            self._skip_link or _is_pill_to(dict(attrs).get("href") or "", self.bot_id)
        ):
            self._skip_link += 1
            self.pill = self.pill or self._quote == 0
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply" and self._quote:
            self._quote -= 1
        elif tag == "a" and self._skip_link:
            self._skip_link -= 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._quote and not self._skip_link:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def _is_pill_to(href: str, bot_id: str) -> bool:
    match = _PILL.match(unquote(href.strip()))
    if match is None:
        return False
    target = match.group(1)
    return (target if target.startswith("@") else "@" + target) == bot_id


def html_text(formatted: str, bot_id: str) -> tuple[str, bool]:
    """The text of Matrix HTML, and whether it holds a pill to `bot_id` (outside quotes)."""
    parser = _HtmlText(bot_id)
    parser.feed(formatted)
    parser.close()
    return parser.text(), parser.pill


def strip_reply_fallback(body: str) -> str:
    """`body` without the quoted lines a legacy reply starts with."""
    lines = body.split("\n")
    if not lines or not _FALLBACK_HEAD.match(lines[0]):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def read_message(content: Mapping[str, Any], bot_id: str) -> Incoming:
    """The person's own words and the message's relations, from an event's content."""
    relates = content.get("m.relates_to")
    relates = relates if isinstance(relates, Mapping) else {}
    rel_type = relates.get("rel_type")
    reply_to = relates.get("m.in_reply_to")
    is_reply = isinstance(reply_to, Mapping) and bool(reply_to.get("event_id"))
    root = _str(relates.get("event_id")) if rel_type == "m.thread" else ""

    body = _str(content.get("body"))
    if is_reply:
        body = strip_reply_fallback(body)
    formatted = _str(content.get("formatted_body")) if content.get("format") == HTML_FORMAT else ""
    text, pill = html_text(formatted, bot_id) if formatted else ("", False)
    if not (text.strip() or pill):
        text = body  # no usable HTML (or none at all): the plain body is what they wrote

    mentions = content.get("m.mentions")
    ids = mentions.get("user_ids") if isinstance(mentions, Mapping) else None
    mentioned = pill or (isinstance(ids, list) and bot_id in ids)
    without_id = re.sub(re.escape(bot_id) + r"\s*[:,]?", " ", text)
    mentioned = mentioned or without_id != text
    return Incoming(
        text=without_id.strip(),
        mentioned=mentioned,
        thread_root=root or None,
        edit=rel_type == "m.replace",
    )


def without_name(text: str, names: Iterable[str]) -> tuple[str, bool]:
    """`text` without a leading "Name:" or "@Name," (how clients write a mention by name).

    Elsewhere in a sentence the name is talk about the bot, not to it.
    """
    for name in sorted(filter(None, set(names)), key=len, reverse=True):
        pattern = re.compile(rf"^\s*@?{re.escape(name)}\s*[:,]", re.IGNORECASE)
        stripped, count = pattern.subn(" ", text)
        if count:
            return stripped.strip(), True
    return text, False


def thread_reply(root: str, event_id: str) -> dict[str, Any]:
    """`m.relates_to` for an answer in a thread, with the reply fallback for clients
    that do not show threads."""
    return {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": event_id},
    }


class Seen:
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


def after_own_arrival(user_id: str, events: Sequence[Any]) -> Sequence[Any]:
    """The events after the bot's latest invite (or join) in this batch.

    A room the bot (re)joins comes with its recent history; what was written before the
    bot was invited (an earlier chat it forgot, or a team's talk) is not for it.
    """
    cut = 0
    for i, event in enumerate(events):
        if (
            isinstance(event, RoomMemberEvent)
            and event.state_key == user_id
            and (
                event.membership == "invite"
                or (event.membership == "join" and event.prev_membership not in ("join", "invite"))
            )
        ):
            cut = i + 1
    return events[cut:]
