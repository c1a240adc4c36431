"""The bot's turn logic: Teams activities in, engine messages out, Adaptive Cards back.

One reading of every message (`_inbound.py`) whatever the conversation type; in group
chats and channels the bot stays silent unless @mentioned, and never discusses a
personal matter there (the engine decides that); replies are tagged with the language
they are written in.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount

from adapters.teams._cards import CARD_CONTENT_TYPE, SUBMIT_KEY, CardOptions, render_card
from adapters.teams._inbound import Extra, lang_of, read, tenant
from adapters.teams._settings import Settings
from bot import (
    ACTION_OPEN_DIRECT,
    Channel,
    Choice,
    Engine,
    Lang,
    Message,
    Reply,
    ReplyKind,
    conversation_key,
)

log = logging.getLogger("adapters.teams")

#: Conversation types where the bot shares the room with others.
GROUP_TYPES = frozenset({"groupChat", "channel"})
MAX_ACTION_CHARS = 200
#: Turn-state key for the locale of the reply being sent (see `TeamsAdapter`).
REPLY_LOCALE = "wegwijzer.reply_locale"
LOCALES: dict[Lang, str] = {"nl": "nl-NL", "en": "en-US"}
#: Teams wording in knowledge/texts.yaml, and the engine text used when a knowledge
#: base lacks it (kb validate requires these keys, but an engine built from an older
#: folder may run: the bot must answer, never fail a turn over a missing text).
TEXT_FALLBACKS: dict[str, str] = {
    "teams_welcome_shared": "group",
    "teams_open_direct": "group",
    "teams_attachment": "invalid",
    "teams_attachment_note": "",
    "teams_sticker": "invalid",
    "teams_details_show": "label_details",
}


class _Card(dict[str, Any]):
    """A rendered card. botbuilder deep-copies every outgoing activity (~1.5 ms for a
    card's nested dicts); a card is never changed after rendering, so it is shared."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Card:
        return self


def submitted_action(value: Any) -> str | None:
    """The `Choice.action` a card button submitted, if well formed."""
    if isinstance(value, dict):
        action = value.get(SUBMIT_KEY)
        if isinstance(action, str) and 0 < len(action) <= MAX_ACTION_CHARS:
            return action
    return None


class WegwijzerHandler(ActivityHandler):  # type: ignore[misc]
    """Turns Teams activities into engine messages and replies with Adaptive Cards."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self._warned: set[str] = set()
        self.open_direct_url = (
            f"https://teams.microsoft.com/l/chat/0/0?users=28:{settings.app_id}"
            if settings.app_id
            else None
        )

    def text(self, key: str, lang: Lang, **values: object) -> str:
        """A text from texts.yaml; an engine text when the knowledge folder lacks it."""
        kb = self.engine.kb
        if key not in kb.texts:
            fallback = TEXT_FALLBACKS.get(key, "")
            if key not in self._warned:
                self._warned.add(key)
                log.warning("texts.yaml has no '%s': using '%s'", key, fallback or "nothing")
            return kb.text(fallback, lang) if fallback else ""
        return kb.text(key, lang, **values)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        conv = activity.conversation
        group = getattr(conv, "conversation_type", None) in GROUP_TYPES
        action = submitted_action(activity.value)
        inbound = read(activity)
        if group and action is None and not inbound.addressed:
            return  # not addressed to the bot: stay silent in shared rooms
        ids = [tenant(activity), conv.id]
        if group:
            # Choices are per person in a shared room, not per room.
            ids.append(getattr(activity.from_property, "id", "") or "")
        message = Message(
            conversation=conversation_key("teams", *ids),
            text=inbound.text,
            channel=Channel.GROUP if group else Channel.DIRECT,
            action=action,
            lang_hint=lang_of(activity.locale),
        )
        reply = await self.engine.handle(message)
        note = ""
        if action is None and inbound.extra is not Extra.NONE:
            if reply.kind is ReplyKind.INVALID:
                key = "teams_sticker" if inbound.extra is Extra.STICKER else "teams_attachment"
                reply = replace(reply, text=self.text(key, reply.lang))
            else:
                note = self.text("teams_attachment_note", reply.lang)
        if group and self._opens_direct(reply):
            reply = self.direct_offer(reply.lang, self.text("teams_open_direct", reply.lang))
        await self.send(turn_context, reply, note)

    def _opens_direct(self, reply: Reply) -> bool:
        """The engine's answer to picking "continue in a private chat" by number, or an
        offer without its button: in Teams both become the offer with the button."""
        if any(c.action == ACTION_OPEN_DIRECT for c in reply.choices):
            return False
        # "open_direct" is the kind the engine gives the picked choice once the Matrix
        # branch is merged; before that it is the group text alone, as INFO.
        if reply.kind is ReplyKind.GROUP or reply.kind.value == "open_direct":
            return True
        return not reply.choices and reply.text == self.engine.kb.text("group", reply.lang)

    def direct_offer(self, lang: Lang, text: str) -> Reply:
        """A reply with the button that opens the personal chat with the bot."""
        label = self.engine.kb.text("group_open_direct", lang)
        return Reply(
            kind=ReplyKind.GROUP,
            lang=lang,
            text=text,
            choices=(Choice(1, label, ACTION_OPEN_DIRECT),),
        )

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id
        if not any(m is not None and m.id == bot_id for m in members_added):
            return
        lang = lang_of(activity.locale) or "nl"
        if getattr(activity.conversation, "conversation_type", None) in GROUP_TYPES:
            # A shared room: what the bot is, where personal questions go, how to ask here.
            name = getattr(activity.recipient, "name", None) or self.text(
                "teams_app_name_short", lang
            )
            text = self.text("teams_welcome_shared", lang, name=name)
            await self.send(turn_context, self.direct_offer(lang, text))
        else:
            await self.send(turn_context, self.engine.welcome(lang))

    async def send(self, turn_context: TurnContext, reply: Reply, note: str = "") -> None:
        """Send the reply's card, tagged with the reply's language."""
        turn_context.turn_state[REPLY_LOCALE] = LOCALES[reply.lang]
        await turn_context.send_activity(self.card_activity(reply, note))

    def card_activity(self, reply: Reply, note: str = "") -> Activity:
        options = CardOptions(
            open_direct_url=self.open_direct_url,
            details_toggle=self.text("teams_details_show", reply.lang),
            note=note,
        )
        card = _Card(render_card(reply, options))
        return Activity(
            type=ActivityTypes.message,
            attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
            locale=LOCALES[reply.lang],
        )
