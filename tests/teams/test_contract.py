"""The shared adapter contract against the real Teams endpoint, cards flattened to text.

Replies, edits and group chats go through the endpoint as the Teams service posts them:
a reply carries the quoted message as a Reply blockquote in its HTML text, an edit is a
`messageUpdate`, a group chat addresses the bot with an `<at>` mention and its entity.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.adapter_contract import AdapterContract, Addressed, Harness, Shared
from tests.teams.conftest import Teams
from tests.teams.helpers import BOT_ID, actions, card_of, flatten, mention_of_bot

pytestmark = pytest.mark.teams

CHAT = "a:contract-chat"
GROUP = {"conversation": "19:contract-group@thread.v2", "conversation_type": "groupChat"}
#: Where the bot's "open the personal chat" button leads: a 1:1 chat with the bot.
PERSONAL_CHAT = f"https://teams.microsoft.com/l/chat/0/0?users={BOT_ID}"


def quoting(author: str, quoted: str, text: str) -> str:
    """A reply's text as Teams sends it (textFormat xml): the quoted message first, in a
    Reply blockquote."""
    quote = "".join(f"<p>{html.escape(line)}</p>" for line in quoted.split("\n"))
    return (
        '<blockquote itemscope="" itemtype="http://schema.skype.com/Reply" '
        f'itemid="{uuid.uuid4().int % 10**13}"><strong>{html.escape(author)}</strong>{quote}'
        f"</blockquote><p>{html.escape(text)}</p>"
    )


@dataclass
class _Chat:
    """The person's side of the 1:1 chat: their last message, the bot's last card."""

    mine: str = ""


@pytest.fixture
async def harness(teams: Teams, tmp_path: Path) -> Harness:
    chat = _Chat()

    async def post(body: dict[str, Any]) -> dict[str, Any] | None:
        """Post one activity; the bot's card, or None when it sent nothing. The endpoint
        answers after the turn, so any reply has already arrived: no wait needed."""
        before = len(teams.connector.received)
        status, text = await teams.post(body)
        assert status == 200, text
        new = teams.connector.received[before:]
        assert len(new) <= 1
        return card_of(new[0].body) if new else None

    async def answered(body: dict[str, Any]) -> dict[str, Any]:
        card = await post(body)
        assert card is not None, "the bot did not answer"
        return card

    async def send(text: str) -> str:
        body = teams.message(text, conversation=CHAT)
        chat.mine = body["id"]
        return flatten(await answered(body))

    async def reply(text: str, quoted: str) -> str:
        markup = quoting("Wegwijzer", quoted, text)
        body = teams.message(markup, conversation=CHAT, textFormat="xml")
        chat.mine = body["id"]
        return flatten(await answered(body))

    async def edit(text: str) -> str | None:
        body = teams.message(text, kind="messageUpdate", conversation=CHAT, id=chat.mine)
        body["channelData"]["eventType"] = "editMessage"
        card = await post(body)
        return None if card is None else flatten(card)

    async def welcome() -> str:
        # The bot added to a new personal chat: conversationUpdate with the bot as member.
        conversation = f"a:contract-new-{uuid.uuid4().hex[:8]}"
        body = teams.message(
            None,
            kind="conversationUpdate",
            conversation=conversation,
            membersAdded=[{"id": BOT_ID}],
        )
        return flatten(await answered(body))

    async def say(text: str) -> str | None:
        card = await post(teams.message(text, **GROUP))
        return None if card is None else flatten(card)

    async def address(text: str) -> Addressed:
        body = teams.message(f"<at>Wegwijzer</at> {text}", entities=[mention_of_bot()], **GROUP)
        card = await answered(body)
        links = [a.get("url") for a in actions(card) if a["type"] == "Action.OpenUrl"]
        return Addressed(flatten(card), opens_direct=PERSONAL_CHAT in links)

    async def colleague_replies(text: str, quoted: str) -> str | None:
        # The quote names the bot, but only a mention entity addresses it.
        markup = quoting("Test User", quoted, text)
        body = teams.message(markup, user="29:colleague", textFormat="xml", **GROUP)
        card = await post(body)
        return None if card is None else flatten(card)

    def captured() -> str:
        # Logs, plus everything the connector received (what left the bot).
        sent = "\n".join(str(c.body) for c in teams.connector.received)
        return teams.logs.getvalue() + "\n" + sent

    return Harness(
        send=send,
        written=[tmp_path],
        captured=captured,
        reply=reply,
        edit=edit,
        shared=Shared(say=say, address=address, reply=colleague_replies),
        welcome=welcome,
    )


class TestTeamsContract(AdapterContract):
    pass
