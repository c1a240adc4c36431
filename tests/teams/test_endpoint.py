"""Teams activities posted to the real endpoint; replies captured by a local connector."""

from __future__ import annotations

import pytest

from bot import ACTION_OPEN_DIRECT
from tests.teams.conftest import Teams
from tests.teams.helpers import APP_ID, BOT_TOKEN, actions, flatten, mention_of_bot

pytestmark = pytest.mark.teams


async def test_personal_question_gets_an_answer_card(teams: Teams) -> None:
    body = teams.message("ik word gepest door mijn leidinggevende")
    status, _ = await teams.post(body)
    assert status == 200
    (sent,) = teams.connector.received
    assert sent.method == "POST"
    assert sent.path == f"/v3/conversations/a:personal-1/activities/{body['id']}"
    assert sent.authorization == f"Bearer {BOT_TOKEN}"
    assert sent.body["conversation"]["id"] == "a:personal-1"
    assert sent.body["recipient"]["id"] == "29:user-1"
    assert sent.body["replyToId"] == body["id"]
    card = teams.connector.cards()[0]
    seen = flatten(card)
    assert "Pesten op het werk" in seen
    assert "https://wetten.overheid.nl/BWBR0010346" in seen  # its source
    assert "2026-11-01" in seen  # when it was last checked
    submits = [a for a in actions(card) if a["type"] == "Action.Submit"]
    assert submits and all(set(a["data"]) == {"wegwijzer"} for a in submits)


async def test_contact_cards_link_to_mail_phone_and_a_teams_chat(teams: Teams) -> None:
    await teams.post(teams.message("ik word gepest"))
    await teams.post(teams.message(None, value={"wegwijzer": "org:voorbeeld"}))
    card = teams.connector.cards()[1]
    seen = flatten(card)
    # Name and organisation without a repeated "(voorbeeld)" (bot.contact_heading).
    assert "Anna de Vries (Voorbeeldministerie (voorbeeld))" in seen
    urls = {a["url"] for a in actions(card) if a["type"] == "Action.OpenUrl"}
    assert "tel:0700000001" in urls
    assert "mailto:vertrouwenspersoon@voorbeeld.example" in urls
    assert (
        "https://teams.microsoft.com/l/chat/0/0?users=vertrouwenspersoon@voorbeeld.example" in urls
    )


async def test_crisis_card_puts_emergency_numbers_first(teams: Teams) -> None:
    await teams.post(teams.message("ik wil niet meer leven"))
    card = teams.connector.cards()[0]
    first = card["body"][0]
    assert first["type"] == "Container" and first["style"] == "attention"
    seen = flatten(card)
    assert seen.index("112") < 200 and "113" in seen
    urls = [a["url"] for a in actions(card) if a["type"] == "Action.OpenUrl"]
    assert urls[0] == "tel:112"


async def test_card_submit_is_handled_as_the_choice(teams: Teams) -> None:
    await teams.post(teams.message("ik word gepest"))
    first = teams.connector.cards()[0]
    related = next(a for a in actions(first) if a["type"] == "Action.Submit")
    status, _ = await teams.post(teams.message(None, value=related["data"]))
    assert status == 200
    second = flatten(teams.connector.cards()[1])
    assert related["title"].split(". ", 1)[1] in second
    assert "ken ik niet" not in second


async def test_typed_number_picks_from_the_menu(teams: Teams) -> None:
    await teams.post(teams.message("menu"))
    await teams.post(teams.message("1"))
    menu, theme = (flatten(c) for c in teams.connector.cards())
    assert theme != menu and "ken ik niet" not in theme


@pytest.mark.parametrize("conversation_type", ["groupChat", "channel"])
async def test_group_answers_only_when_mentioned(teams: Teams, conversation_type: str) -> None:
    room = {"conversation": "19:room@thread.v2", "conversation_type": conversation_type}
    status, _ = await teams.post(teams.message("ik word gepest", **room))
    assert status == 200
    assert teams.connector.received == []  # not addressed to the bot: silent
    status, _ = await teams.post(
        teams.message("<at>Wegwijzer</at> menu", entities=[mention_of_bot()], **room)
    )
    assert status == 200
    menu = teams.connector.cards()[0]
    # The mention was removed before matching: "menu" was understood as the command.
    assert "ken ik niet" not in flatten(menu)
    assert any(a["type"] == "Action.Submit" for a in actions(menu))


async def test_group_never_discusses_a_personal_matter(teams: Teams) -> None:
    room = {"conversation": "19:room@thread.v2", "conversation_type": "groupChat"}
    mention = [mention_of_bot()]
    await teams.post(teams.message("<at>Wegwijzer</at> ik word gepest", entities=mention, **room))
    card = teams.connector.cards()[0]
    seen = flatten(card)
    assert "Pesten op het werk" not in seen and "Een vertrouwenspersoon luistert" not in seen
    (open_chat,) = [a for a in actions(card) if a["type"] == "Action.OpenUrl"]
    assert open_chat["url"] == f"https://teams.microsoft.com/l/chat/0/0?users=28:{APP_ID}"
    # A personal action submitted from a card in the room gets the same private-chat offer.
    await teams.post(teams.message(None, value={"wegwijzer": "entry:pesten"}, **room))
    assert "Pesten op het werk" not in flatten(teams.connector.cards()[1])
    assert not any(a.get("data", {}).get("wegwijzer") == ACTION_OPEN_DIRECT for a in actions(card))


async def test_welcome_when_installed(teams: Teams) -> None:
    added_bot = teams.message(
        None,
        kind="conversationUpdate",
        membersAdded=[{"id": "28:" + APP_ID}],
    )
    status, _ = await teams.post(added_bot)
    assert status == 200
    seen = flatten(teams.connector.cards()[0])
    assert "Ik bewaar niets van wat je schrijft" in seen  # the privacy line
    english = teams.message(
        None, kind="conversationUpdate", membersAdded=[{"id": "28:" + APP_ID}], locale="en-GB"
    )
    await teams.post(english)
    assert "I keep nothing of what you write" in flatten(teams.connector.cards()[1])
    someone_else = teams.message(None, kind="conversationUpdate", membersAdded=[{"id": "29:x"}])
    await teams.post(someone_else)
    assert len(teams.connector.received) == 2


async def test_other_activities_get_no_reply(teams: Teams) -> None:
    for kind in ("typing", "messageReaction", "installationUpdate", "event"):
        status, _ = await teams.post(teams.message(None, kind=kind))
        assert status == 200
    status, _ = await teams.post(teams.message(None, kind="invoke", name="wegwijzer/unknown"))
    assert status == 501  # botbuilder's answer for an invoke the bot does not implement
    assert teams.connector.received == []


async def test_healthz(teams: Teams) -> None:
    async with teams.session.get(f"{teams.url}/healthz") as r:
        assert r.status == 200
        assert (await r.json())["status"] == "ok"


async def test_english_locale_and_forget(teams: Teams) -> None:
    await teams.post(teams.message("i am being bullied", locale="en-US"))
    assert "Bullying at work" in flatten(teams.connector.cards()[0])
    before = len(teams.engine.store)
    await teams.post(teams.message("forget", locale="en-US"))
    assert len(teams.engine.store) == before - 1


def test_fast_serializer_writes_what_msrest_writes() -> None:
    from botbuilder.core import TurnContext
    from botbuilder.schema import Activity, Attachment

    from adapters.teams._app import _serialize
    from tests.teams.helpers import activity, mention_of_bot

    incoming = Activity().deserialize(
        activity(
            "http://127.0.0.1:1/", text="<at>Wegwijzer</at> hallo", entities=[mention_of_bot()]
        )
    )
    card = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "x"}]}
    reply = Activity(
        type="message",
        locale="nl-NL",
        attachments=[
            Attachment(content_type="application/vnd.microsoft.card.adaptive", content=card)
        ],
    )
    reply = TurnContext.apply_conversation_reference(
        reply, TurnContext.get_conversation_reference(incoming)
    )
    for item in (reply, incoming):
        ours, theirs = _serialize(item), item.serialize()

        def same(a: object, b: object) -> None:
            if isinstance(b, dict):
                assert isinstance(a, dict)
                for key, value in b.items():
                    if key == "tenantID":  # msrest's key; Teams sends and reads tenantId
                        continue
                    same(a[key], value)
            else:
                assert a == b

        same(ours, theirs)
    assert (
        _serialize(reply)["conversation"]["tenantId"]
        == incoming.conversation.additional_properties["tenantId"]
    )
