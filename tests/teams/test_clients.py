"""What real Teams clients send (issue 12, cases 7-12), through the real endpoint.

Every activity carries a canary (in its text, or where the text must stay a command: in
the sender's name, the HTML copy of the message, or an attachment), and no canary may
reach the logs or anything the bot sends.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from bot import ACTION_OPEN_DIRECT
from tests.teams.conftest import Teams
from tests.teams.helpers import APP_ID, BOT_ID, TENANT_ID, actions, flatten, mention_of_bot

pytestmark = pytest.mark.teams

DEEP_LINK = f"https://teams.microsoft.com/l/chat/0/0?users=28:{APP_ID}"
ROOMS: dict[str, dict[str, str]] = {
    "personal": {},
    "groupChat": {"conversation": "19:group@thread.v2", "conversation_type": "groupChat"},
    "channel": {"conversation": "19:general@thread.tacv2", "conversation_type": "channel"},
}
MENU_NL = "Waar gaat je vraag over?"
BOT = {"type": "mention", "text": "<at>Wegwijzer</at>", "mentioned": {"id": BOT_ID}}
BARE = {"type": "mention", "mentioned": {"id": BOT_ID, "name": "Wegwijzer"}}
ANNA = {"type": "mention", "text": "<at>Anna</at>", "mentioned": {"id": "29:anna", "name": "Anna"}}


def canary() -> str:
    return f"kanarie{uuid.uuid4().hex}"


def html_copy(markup: str) -> dict[str, Any]:
    """The text/html attachment Teams adds to every formatted message."""
    return {"contentType": "text/html", "content": markup}


async def send(teams: Teams, body: dict[str, Any]) -> dict[str, Any]:
    """Post one activity; returns the activity the bot sent back."""
    before = len(teams.connector.received)
    status, text = await teams.post(body)
    assert status == 200, text
    assert len(teams.connector.received) == before + 1
    return teams.connector.received[-1].body


def card(sent: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = sent["attachments"]
    content: dict[str, Any] = attachment["content"]
    return content


def assert_private(teams: Teams, *canaries: str) -> None:
    sent = "\n".join(str(c.body) for c in teams.connector.received)
    for c in canaries:
        assert c not in teams.logs.getvalue()
        assert c not in sent


# ---------------------------------------------------------------- 7: text clean-up


@pytest.mark.parametrize("room", ROOMS)
async def test_mention_of_the_bot_is_removed_in_every_conversation_type(
    teams: Teams, room: str
) -> None:
    c = canary()
    body = teams.message("<at>Wegwijzer</at> menu", entities=[mention_of_bot()], **ROOMS[room])
    body["attachments"] = [html_copy(f"<p>{body['text']} {c}</p>")]
    sent = await send(teams, body)
    seen = flatten(card(sent))
    assert MENU_NL in seen  # understood as the command, and in Dutch
    assert sent["locale"] == "nl-NL"
    assert_private(teams, c)


async def test_personal_mention_without_entity_is_removed(teams: Teams) -> None:
    # Some clients send the mention tag in a personal chat without a mention entity.
    c = canary()
    body = teams.message("<at>Wegwijzer</at> menu")
    body["attachments"] = [html_copy(f"<p>{body['text']} {c}</p>")]
    assert MENU_NL in flatten(card(await send(teams, body)))
    assert_private(teams, c)


@pytest.mark.parametrize("room", ["personal", "groupChat"])
async def test_mention_entity_without_text_leaves_no_name(teams: Teams, room: str) -> None:
    c = canary()
    bare = {"type": "mention", "mentioned": {"id": BOT_ID, "name": "Wegwijzer"}}
    for text in ("<at>Wegwijzer</at> menu", "Wegwijzer menu", "<at>Wegwijzer Rijk</at> menu"):
        body = teams.message(text, entities=[bare], **ROOMS[room])
        body["attachments"] = [html_copy(f"<p>{body['text']} {c}</p>")]
        seen = flatten(card(await send(teams, body)))
        assert MENU_NL in seen, text
    assert_private(teams, c)


@pytest.mark.parametrize(
    ("text", "text_format"),
    [
        ("<p>menu</p>", "xml"),
        ("<div><div>menu</div></div>", "xml"),
        ("<p>menu</p>", "plain"),
        ("menu&nbsp;", "plain"),
        ("&nbsp;menu&#160;", "plain"),
        ("<p><at>Wegwijzer</at>&nbsp;menu</p>", "xml"),
    ],
)
async def test_html_and_entities_are_read_as_text(
    teams: Teams, text: str, text_format: str
) -> None:
    c = canary()
    body = teams.message(text, textFormat=text_format)
    body["attachments"] = [html_copy(f"<p>{c}</p>")]  # the HTML copy is never read
    assert MENU_NL in flatten(card(await send(teams, body)))
    assert_private(teams, c)


async def test_a_question_in_html_is_answered(teams: Teams) -> None:
    c = canary()
    text = f"<p>ik word <b>gepest</b> door mijn leidinggevende&nbsp;{c}</p>"
    seen = flatten(card(await send(teams, teams.message(text, textFormat="xml"))))
    assert "Pesten op het werk" in seen
    assert_private(teams, c)


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("<at>Wegwijzer</at> vraag <at>Anna</at>", [BOT, ANNA], "vraag Anna"),
        ("<at>Anna</at> en <at>Wegwijzer</at>: menu", [ANNA, BOT], "Anna en : menu"),
        ("<at>Wegwijzer</at> menu", [], "menu"),
        ("<at>Wegwijzer Rijk</at> menu", [BARE], "menu"),
        ("Wegwijzer menu", [BARE], "menu"),
        ("Wegwijzer menu", [], "Wegwijzer menu"),  # no mention: the word is the person's
        ("<p>regel 1</p><p>regel&nbsp;2</p>", [], "regel 1\nregel 2"),
        ("a <b en 3 < 4 &amp; 5", [], "a <b en 3 < 4 & 5"),
        ("<div>menu</div><style>p {}</style>", [], "menu"),
        (
            '<blockquote itemscope="" itemtype="http://schema.skype.com/Reply" itemid="1">'
            "<strong>Wegwijzer</strong><p>Waar gaat je vraag over?</p>"
            "<blockquote>nested</blockquote></blockquote><p>vergeet</p>",
            [],
            "vergeet",
        ),
    ],
)
def test_clean_text(text: str, entities: list[dict[str, Any]], expected: str) -> None:
    from botbuilder.schema import Activity

    from adapters.teams._inbound import clean_text
    from tests.teams.helpers import activity

    body = activity("http://127.0.0.1:1/", text=text, entities=entities)
    assert clean_text(Activity().deserialize(body)) == expected


# ---------------------------------------------------------------- 8: tenant


class TestTenantAllowList:
    @pytest.fixture
    def teams_extra_env(self) -> dict[str, str]:
        return {"WEGWIJZER_TEAMS_TENANTS": TENANT_ID.upper()}

    @pytest.mark.parametrize("key", ["tenantId", "tenantID"])
    async def test_tenant_only_in_the_conversation_is_read(self, teams: Teams, key: str) -> None:
        c = canary()
        body = teams.message(f"ik word gepest {c}")
        body["channelData"] = {}
        body["conversation"].pop("tenantId")
        body["conversation"][key] = TENANT_ID
        sent = await send(teams, body)
        assert "Pesten op het werk" in flatten(card(sent))
        assert_private(teams, c)

    async def test_other_tenant_is_refused(self, teams: Teams) -> None:
        c = canary()
        other = "ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee"
        body = teams.message(f"ik word gepest {c}", tenant=other)
        status, _ = await teams.post(body)
        assert status == 403
        body = teams.message(f"ik word gepest {c}")
        body["channelData"] = {}
        body["conversation"]["tenantId"] = other
        status, _ = await teams.post(body)
        assert status == 403
        assert teams.connector.received == []
        assert_private(teams, c)


# ---------------------------------------------------------------- 9: reply locale


@pytest.mark.parametrize(
    ("locale", "text", "expected", "lang"),
    [
        ("en-US", "ik word gepest door mijn leidinggevende", "nl-NL", "nl"),
        ("en-GB", "ik word gepest door mijn leidinggevende", "nl-NL", "nl"),
        ("nl-NL", "i am being bullied by my manager", "en-US", "en"),
        ("nl-NL", "ik word gepest door mijn leidinggevende", "nl-NL", "nl"),
    ],
)
async def test_reply_is_tagged_with_the_language_used(
    teams: Teams, locale: str, text: str, expected: str, lang: str
) -> None:
    c = canary()
    sent = await send(teams, teams.message(f"{text} {c}", locale=locale))
    assert sent["locale"] == expected
    assert card(sent)["lang"] == lang
    assert_private(teams, c)


async def test_welcome_is_tagged_with_its_language(teams: Teams) -> None:
    added = {"membersAdded": [{"id": BOT_ID}]}
    sent = await send(teams, teams.message(None, kind="conversationUpdate", **added))
    assert sent["locale"] == "nl-NL"
    english = teams.message(None, kind="conversationUpdate", locale="en-GB", **added)
    assert (await send(teams, english))["locale"] == "en-US"


# ---------------------------------------------------------------- 10: welcome in shared rooms


@pytest.mark.parametrize("room", ["groupChat", "channel"])
async def test_welcome_in_a_shared_room(teams: Teams, room: str) -> None:
    c = canary()
    body = teams.message(
        None, kind="conversationUpdate", membersAdded=[{"id": BOT_ID}], **ROOMS[room]
    )
    body["channelData"]["team"] = {"id": "19:team@thread.tacv2", "name": c}
    welcome = card(await send(teams, body))
    seen = flatten(welcome)
    assert "Wegwijzer" in seen and "persoonlijke chat" in seen  # what it is, where to ask
    assert "@Wegwijzer" in seen  # how to address it here
    assert "Ik bewaar niets van wat je schrijft" in seen
    buttons = list(actions(welcome))
    assert [b["type"] for b in buttons] == ["Action.OpenUrl"]  # no personal-chat menu here
    assert buttons[0]["url"] == DEEP_LINK
    assert_private(teams, c)


async def test_welcome_in_a_personal_chat_is_the_full_welcome(teams: Teams) -> None:
    body = teams.message(None, kind="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    welcome = card(await send(teams, body))
    assert "Typ je vraag" in flatten(welcome)
    assert sum(a["type"] == "Action.Submit" for a in actions(welcome)) == 4


async def test_members_joining_a_room_get_no_welcome(teams: Teams) -> None:
    room = ROOMS["channel"]
    body = teams.message(None, kind="conversationUpdate", membersAdded=[{"id": "29:x"}], **room)
    status, _ = await teams.post(body)
    assert status == 200 and teams.connector.received == []


# ---------------------------------------------------------------- 11: "1" after the offer


async def test_group_number_after_the_offer_opens_the_personal_chat(teams: Teams) -> None:
    c = canary()
    room = ROOMS["groupChat"]
    mention = [mention_of_bot()]
    offer = card(
        await send(
            teams, teams.message(f"<at>Wegwijzer</at> ik word gepest {c}", entities=mention, **room)
        )
    )
    assert [a["url"] for a in actions(offer) if a["type"] == "Action.OpenUrl"] == [DEEP_LINK]
    for text in (
        "<at>Wegwijzer</at> 1",
        "<at>Wegwijzer</at>&nbsp;1",
        "<p><at>Wegwijzer</at> 1</p>",
    ):
        again = await send(teams, teams.message(text, entities=mention, **room))
        opened = card(again)
        urls = [a["url"] for a in actions(opened) if a["type"] == "Action.OpenUrl"]
        assert urls == [DEEP_LINK], flatten(opened)  # never the offer without its button
        assert "Open de persoonlijke chat" in flatten(opened)
        # Typed again later, the choice is answered the same way, still with the button.
        await send(
            teams, teams.message(f"<at>Wegwijzer</at> ik word gepest {c}", entities=mention, **room)
        )
    assert_private(teams, c)


async def test_open_direct_submitted_in_a_group_gets_the_button(teams: Teams) -> None:
    room = ROOMS["channel"]
    sent = await send(teams, teams.message(None, value={"wegwijzer": ACTION_OPEN_DIRECT}, **room))
    urls = [a["url"] for a in actions(card(sent)) if a["type"] == "Action.OpenUrl"]
    assert urls == [DEEP_LINK]


# ---------------------------------------------------------------- 12: pictures, files, stickers

PICTURES_NL = "Plaatjes, bestanden en spraakberichten kan ik niet lezen"


def pasted_image(c: str) -> list[dict[str, Any]]:
    url = f"https://smba.trafficmanager.net/emea/v3/attachments/{c}/views/original"
    return [
        {"contentType": "image/png", "contentUrl": url},
        html_copy(
            f'<p><img src="https://eu-api.asm.skype.com/v1/objects/{c}/views/imgo" '
            'itemtype="http://schema.skype.com/AMSImage" width="250" height="250"></p>'
        ),
    ]


def file_upload(c: str) -> list[dict[str, Any]]:
    return [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "contentUrl": f"https://contoso-my.sharepoint.com/personal/{c}.pdf",
            "name": f"{c}.pdf",
            "content": {
                "downloadUrl": f"https://download.example/{c}",
                "uniqueId": str(uuid.uuid4()),
                "fileType": "pdf",
            },
        }
    ]


def voice_message(c: str) -> list[dict[str, Any]]:
    return [
        {"contentType": "audio/mp4", "contentUrl": f"https://x.example/{c}.m4a", "name": "audio"}
    ]


def video_clip(c: str) -> list[dict[str, Any]]:
    return [{"contentType": "video/mp4", "contentUrl": f"https://x.example/{c}.mp4"}]


def sticker(c: str) -> list[dict[str, Any]]:
    return [
        html_copy(
            f'<img alt="Sticker" src="https://eu-api.asm.skype.com/v1/objects/{c}/views/imgo" '
            'itemtype="http://schema.skype.com/AMSImage" itemscope="sticker">'
        )
    ]


@pytest.mark.parametrize(
    "attachments",
    [pasted_image, file_upload, voice_message, video_clip],
    ids=["picture", "file", "voice", "video"],
)
@pytest.mark.parametrize("text", [None, "", "<p></p>"])
async def test_pictures_and_files_get_a_clear_answer(
    teams: Teams, attachments: Any, text: str | None
) -> None:
    c = canary()
    body = teams.message(text, attachments=attachments(c))
    reply = card(await send(teams, body))
    seen = flatten(reply)
    assert PICTURES_NL in seen
    assert "Ik kon je bericht niet lezen" not in seen
    assert sum(a["type"] == "Action.Submit" for a in actions(reply)) == 4  # a way on
    assert_private(teams, c)


async def test_a_sticker_in_a_personal_chat_gets_a_friendly_answer(teams: Teams) -> None:
    c = canary()
    seen = flatten(card(await send(teams, teams.message(None, attachments=sticker(c)))))
    assert "sticker" in seen and "Typ je vraag in woorden" in seen
    assert_private(teams, c)


async def test_words_with_a_picture_are_answered_with_a_note(teams: Teams) -> None:
    c = canary()
    body = teams.message(f"ik word gepest {c}", attachments=pasted_image(c))
    seen = flatten(card(await send(teams, body)))
    assert "Pesten op het werk" in seen
    assert "Ik heb alleen je tekst gelezen" in seen
    assert_private(teams, c)


async def test_emoji_pictures_are_no_attachment(teams: Teams) -> None:
    emoji = html_copy(
        '<p>menu <span itemtype="http://schema.skype.com/Emoji">'
        '<img itemtype="http://schema.skype.com/Emoji" alt="🙂"></span></p>'
    )
    seen = flatten(card(await send(teams, teams.message("menu", attachments=[emoji]))))
    assert MENU_NL in seen and "niet lezen" not in seen


async def test_group_pictures_only_when_addressed(teams: Teams) -> None:
    c = canary()
    room = ROOMS["groupChat"]
    status, _ = await teams.post(teams.message(None, attachments=sticker(c), **room))
    assert status == 200
    status, _ = await teams.post(teams.message(None, attachments=pasted_image(c), **room))
    assert status == 200 and teams.connector.received == []  # not addressed: silent
    body = teams.message(
        "<at>Wegwijzer</at>", entities=[mention_of_bot()], attachments=pasted_image(c), **room
    )
    assert PICTURES_NL in flatten(card(await send(teams, body)))
    assert_private(teams, c)


async def test_english_attachment_answer(teams: Teams) -> None:
    c = canary()
    body = teams.message(None, attachments=file_upload(c), locale="en-US")
    sent = await send(teams, body)
    assert "I cannot read pictures, files or voice messages" in flatten(card(sent))
    assert sent["locale"] == "en-US"
    assert_private(teams, c)


# ---------------------------------------------------------------- edits and deletions


async def test_edits_and_deletions_get_no_reply(teams: Teams) -> None:
    c = canary()
    await send(teams, teams.message("menu"))
    for kind, event in (("messageUpdate", "editMessage"), ("messageDelete", "softDeleteMessage")):
        body = teams.message(f"1 {c}", kind=kind)
        body["channelData"]["eventType"] = event
        status, _ = await teams.post(body)
        assert status == 200
    assert len(teams.connector.received) == 1  # only the menu
    assert_private(teams, c)


async def test_a_reply_to_an_earlier_message_reads_only_the_new_words(teams: Teams) -> None:
    # Teams puts the quoted message before the reply; "vergeet" must forget, not the quote.
    c = canary()
    await send(teams, teams.message("menu"))
    before = len(teams.engine.store)
    quote = (
        '<blockquote itemscope="" itemtype="http://schema.skype.com/Reply" itemid="17">'
        f"<strong>Wegwijzer</strong><span>{c}</span><p>Waar gaat je vraag over?</p>"
        "</blockquote><p>vergeet</p>"
    )
    await send(teams, teams.message(quote, textFormat="xml"))
    assert len(teams.engine.store) == before - 1
    assert_private(teams, c)
