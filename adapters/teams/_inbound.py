"""What an incoming Teams activity says, read the same way in every conversation type.

Pure functions over botbuilder's `Activity` (no I/O): the person's words without mentions
of the bot, HTML or entities; whether the bot was addressed; whether pictures, files or a
sticker came along; the tenant; the locale. The handler (`_handler.py`) decides what to do.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import Enum
from html.parser import HTMLParser
from typing import Any

from botbuilder.schema import Activity

from bot import Lang

#: Tags Teams (and the Emulator) put in `text`; only text with one of them is parsed as
#: HTML, so "a <b or 3 <4" typed in plain text keeps its angle brackets.
_HTML_TAG = re.compile(
    r"</?(?:at|p|div|span|br|b|i|u|s|em|strong|strike|a|img|ul|ol|li|blockquote|pre|code"
    r"|h[1-6]|table|thead|tbody|tr|td|th|sup|sub|font|hr|emoji|attachment|systemEventMessage)"
    r"\b[^>]*>",
    re.IGNORECASE,
)
_AT_ELEMENT = re.compile(r"<at\b[^>]*>(.*?)</at\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
#: Elements whose end starts a new line in what the person sees.
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "tr", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
)
#: Elements whose content is not text the person wrote.
_SKIP = frozenset({"script", "style", "head", "title", "template"})
#: The itemtype of the quote Teams puts before a reply to an earlier message.
_REPLY_QUOTE = "schema.skype.com/reply"
#: Attachment types that are the message itself (Teams adds its HTML form) or a card.
_TEXT_TYPES = frozenset({"text/html", "text/plain", "text/markdown", "text/x-markdown"})


class Extra(Enum):
    """What came with the words that the bot cannot read."""

    NONE = "none"
    FILE = "file"  # pictures, files, voice messages, video
    STICKER = "sticker"


@dataclass(frozen=True, slots=True)
class Inbound:
    """An incoming message as the handler needs it.

    Attributes:
        text: The person's words: no mention of the bot, no HTML, entities decoded.
        addressed: The bot was @mentioned (group rooms answer only then).
        extra: Pictures, files or a sticker came along (never read, never kept).
    """

    text: str
    addressed: bool
    extra: Extra


class _TextOf(HTMLParser):
    """The text a person sees in Teams' HTML: tags dropped, blocks on their own line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._quote_depth:
            self._quote_depth += tag == "blockquote"
        elif tag == "blockquote" and any(
            name == "itemtype" and value and _REPLY_QUOTE in value.lower() for name, value in attrs
        ):
            # A Teams reply quotes the earlier message: those are not the person's words.
            self._quote_depth = 1
        elif tag in _SKIP:
            self._skipping += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._quote_depth:
            self._quote_depth -= tag == "blockquote"
        elif tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping and not self._quote_depth:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """The visible text of an HTML fragment, entities decoded."""
    parser = _TextOf()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _bot_names(activity: Activity) -> set[str]:
    """Names the bot goes by in this activity (folded), from the recipient and mentions."""
    bot_id = _bot_id(activity)
    names = {_fold(getattr(activity.recipient, "name", None))}
    for props in _mentions(activity):
        who = props.get("mentioned")
        if isinstance(who, dict) and bot_id and who.get("id") == bot_id:
            names.add(_fold(who.get("name")))
    names.discard("")
    return names


def _fold(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(html.unescape(value).replace("\u00a0", " ").split()).casefold()


def _bot_id(activity: Activity) -> str:
    value = getattr(activity.recipient, "id", None)
    return value if isinstance(value, str) else ""


def _mentions(activity: Activity) -> list[dict[str, Any]]:
    """The properties of each mention entity (botbuilder keeps them as extra fields)."""
    out: list[dict[str, Any]] = []
    for entity in activity.entities or ():
        if (getattr(entity, "type", "") or "").lower() != "mention":
            continue
        props = getattr(entity, "additional_properties", None)
        if isinstance(props, dict):
            out.append(props)
    return out


def addressed(activity: Activity) -> bool:
    """True when a mention entity names this bot."""
    bot_id = _bot_id(activity)
    for props in _mentions(activity):
        who = props.get("mentioned")
        if isinstance(who, dict) and bot_id and who.get("id") == bot_id:
            return True
    return False


def clean_text(activity: Activity) -> str:
    """The person's words, the same way in personal chats, group chats and channels.

    Mentions of the bot are removed wherever they stand (with or without a mention
    entity, and when the entity has no `text`), mentions of other people keep their
    name, HTML is reduced to its text, and entities such as `&nbsp;` are decoded.
    """
    raw = activity.text if isinstance(activity.text, str) else ""
    if not raw:
        return ""
    names = _bot_names(activity)
    mention_texts = set()
    bot_id = _bot_id(activity)
    for props in _mentions(activity):
        who = props.get("mentioned")
        text = props.get("text")
        if isinstance(who, dict) and bot_id and who.get("id") == bot_id and isinstance(text, str):
            mention_texts.add(text)
    text = raw
    for mention in sorted(mention_texts, key=len, reverse=True):
        if mention.strip():
            text = text.replace(mention, " ")
    found_bot = False

    def drop_bot(match: re.Match[str]) -> str:
        nonlocal found_bot
        inner = match.group(1)
        if _fold(html_text(inner)) in names:
            found_bot = True
            return " "
        return inner  # someone else: keep the name as text

    text = _AT_ELEMENT.sub(drop_bot, text)
    # A mention entity for the bot whose text was not found and no <at> element with a
    # known name: the mention is still in the text, in another form.
    unfound = (
        not found_bot
        and addressed(activity)
        and not any(m.strip() and m in raw for m in mention_texts)
    )
    if unfound and _AT_ELEMENT.search(raw):
        # Renamed bot, entity without text: the first <at> element is the bot.
        text = _AT_ELEMENT.sub(" ", raw, count=1)
        text = _AT_ELEMENT.sub(lambda m: m.group(1), text)
        unfound = False
    is_html = (activity.text_format or "").lower() == "xml" or _HTML_TAG.search(text) is not None
    text = html_text(text) if is_html else html.unescape(text)
    text = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n")))
    text = text.strip()
    return _strip_leading_name(text, names) if unfound else text


def _strip_leading_name(text: str, names: set[str]) -> str:
    """Drop the bot's name at the very start ("Wegwijzer menu"): what a mention entity
    without `text` leaves when the client sent the mention as plain text."""
    folded = text.casefold()
    for name in sorted(names, key=len, reverse=True):
        if folded.startswith(name) and (len(text) == len(name) or not text[len(name)].isalnum()):
            return text[len(name) :].lstrip(" ,:;-\n")
    return text


def extra_content(activity: Activity) -> Extra:
    """Whether pictures, files, voice messages or a sticker came with the message."""
    found = Extra.NONE
    for attachment in activity.attachments or ():
        ctype = (getattr(attachment, "content_type", "") or "").lower().split(";")[0].strip()
        if ctype in _TEXT_TYPES:
            content = getattr(attachment, "content", None)
            if ctype == "text/html" and isinstance(content, str):
                kind = _html_extra(content)
                if kind is Extra.STICKER:
                    return kind
                if kind is Extra.FILE:
                    found = kind
            continue
        if ctype.startswith("application/vnd.microsoft.card."):
            continue  # a card (e.g. a forwarded one): no picture, nothing to read
        found = Extra.FILE  # image/*, audio/*, video/*, file download info, reference, ...
    return found


_IMG = re.compile(r"<(img|video|audio|attachment)\b([^>]*)>", re.IGNORECASE)


def _html_extra(markup: str) -> Extra:
    """A sticker, a picture or a file in Teams' HTML form of the message."""
    found = Extra.NONE
    for match in _IMG.finditer(markup):
        tag, attrs = match.group(1).lower(), match.group(2).lower()
        if "sticker" in attrs:
            return Extra.STICKER
        if tag == "img" and "schema.skype.com/emoji" in attrs:
            continue  # an emoji drawn as a picture: its text is in the message
        found = Extra.FILE
    return found


def tenant(activity: Activity) -> str:
    """The tenant id (lower case) from `channelData.tenant.id` or the conversation.

    botbuilder-schema maps the conversation's tenant to `tenantID`, while Teams sends
    `tenantId`, which msrest keeps aside in `additional_properties`: both are read.
    """
    data = activity.channel_data
    if isinstance(data, dict):
        value = data.get("tenant")
        if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
            return str(value["id"]).lower()
    conv = activity.conversation
    candidates: list[Any] = [getattr(conv, "tenant_id", None)]
    extra = getattr(conv, "additional_properties", None)
    if isinstance(extra, dict):
        candidates += [extra.get("tenantId"), extra.get("tenantID")]
    for value in candidates:
        if isinstance(value, str) and value:
            return value.lower()
    return ""


def lang_of(locale: Any) -> Lang | None:
    """The engine language for a Teams locale ("nl-NL" -> "nl"), or None."""
    if not isinstance(locale, str):
        return None
    prefix = locale[:2].lower()
    return "en" if prefix == "en" else "nl" if prefix == "nl" else None


def read(activity: Activity) -> Inbound:
    """Everything the handler needs from a message activity."""
    return Inbound(clean_text(activity), addressed(activity), extra_content(activity))
