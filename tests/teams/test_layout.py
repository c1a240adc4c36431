"""Issue 17, Teams part: cards from `reply.sections()`, wording from texts.yaml, PLATFORM."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from adapters.teams import PLATFORM, build_package
from adapters.teams._cards import DETAILS_ID, CardOptions, render_card
from adapters.teams._handler import TEXT_FALLBACKS
from adapters.teams._package import GROUP_COMMANDS, PERSONAL_COMMANDS, build_manifest
from adapters.teams._settings import SettingsError
from bot import (
    Choice,
    Contact,
    ContactMethod,
    Engine,
    KnowledgeBaseError,
    Reply,
    ReplyKind,
    Source,
    load_knowledge_base,
)
from tests.conftest import make_test_kb
from tests.teams.conftest import Teams, teams_env
from tests.teams.helpers import APP_ID, actions, flatten

pytestmark = pytest.mark.teams

ENV = {
    "MicrosoftAppId": APP_ID,
    "WEGWIJZER_TEAMS_PRIVACY_URL": "https://wegwijzer.example.nl/privacy",
    "WEGWIJZER_TEAMS_TERMS_URL": "https://wegwijzer.example.nl/voorwaarden",
}
ANNA = Contact(
    role="vpoo",
    name="Anna de Vries (voorbeeld)",
    role_line="Vertrouwenspersoon. Vertrouwelijk.",
    organisation="Voorbeeldministerie (voorbeeld)",
    methods=(
        ContactMethod("email", "anna@voorbeeld.example"),
        ContactMethod("teams", "anna@voorbeeld.example"),
        ContactMethod("phone", "070 000 0001", "werkdagen"),
    ),
)


def _reply(**fields: Any) -> Reply:
    base: dict[str, Any] = {
        "kind": ReplyKind.ANSWER,
        "lang": "nl",
        "title": "Pesten op het werk",
        "text": "Eerste alinea.\n\nTweede alinea.",
        "details": "Artikel 3 Arbowet.\n\nTermijn: geen.",
        "sources": (Source("Arbowet", "https://wetten.overheid.nl/BWBR0010346", "art. 3"),),
        "reviewed": dt.date(2026, 11, 1),
        "contacts_intro": "Wie kan je helpen:",
        "contacts": (ANNA,),
        "choices_prompt": "Meer weten?",
        "choices": (Choice(1, "Melden", "entry:melden"),),
        "footer": "Dit is algemene informatie.",
        "labels": {
            "details": "Voor vertrouwenspersonen",
            "sources": "Bronnen",
            "reviewed": "Gecontroleerd op",
        },
    }
    base.update(fields)
    return Reply(**base)


def test_card_follows_the_section_order() -> None:
    seen = flatten(render_card(_reply(), CardOptions(details_toggle="Toon de uitleg")))
    order = [
        "Pesten op het werk",
        "Toon de uitleg",
        "1. Melden",
        "Wie kan je helpen:",
        "Anna de Vries (Voorbeeldministerie (voorbeeld))",
        "Bronnen",
        "Gecontroleerd op: 2026-11-01",
        "Dit is algemene informatie.",
    ]
    positions = [seen.index(part) for part in order]
    assert positions == sorted(positions), seen
    # The address that is both e-mail and Teams id is written once, with both buttons.
    assert "\nanna@voorbeeld.example · 070 000 0001 (werkdagen)\n" in seen
    card = render_card(_reply())
    urls = {a["url"] for a in actions(card) if a["type"] == "Action.OpenUrl"}
    assert {"mailto:anna@voorbeeld.example", "tel:0700000001"} < urls
    assert "https://teams.microsoft.com/l/chat/0/0?users=anna@voorbeeld.example" in urls


def test_details_are_folded_behind_a_toggle_unless_shown() -> None:
    card = render_card(_reply(), CardOptions(details_toggle="Toon de uitleg"))
    (container,) = [b for b in card["body"] if b.get("id") == DETAILS_ID]
    assert container["isVisible"] is False
    assert "Artikel 3 Arbowet." in flatten(container)
    (toggle,) = [a for a in actions(card) if a["type"] == "Action.ToggleVisibility"]
    assert toggle["targetElements"] == [DETAILS_ID] and toggle["title"] == "Toon de uitleg"

    shown = render_card(_reply(details_shown=True))
    assert not any(a["type"] == "Action.ToggleVisibility" for a in actions(shown))
    assert not any(b.get("isVisible") is False for b in shown["body"])
    seen = flatten(shown)
    assert seen.index("Voor vertrouwenspersonen") < seen.index("Artikel 3 Arbowet.")


def test_note_comes_after_the_crisis_notice() -> None:
    from bot import CrisisNotice

    crisis = CrisisNotice("Bel 112.", ())
    card = render_card(_reply(crisis=crisis, kind=ReplyKind.CRISIS), CardOptions(note="NOTE"))
    seen = flatten(card)
    assert seen.index("Bel 112.") < seen.index("NOTE") < seen.index("Pesten op het werk")
    assert card["speak"] == "Bel 112."


def test_manifest_wording_comes_from_texts_yaml(tmp_path: Path) -> None:
    root = make_test_kb(tmp_path)
    texts = root / "texts.yaml"
    marker = f"Proef{uuid.uuid4().hex[:8]}"
    original = texts.read_text(encoding="utf-8")
    changed = original.replace("nl: Alle onderwerpen", f"nl: Alle onderwerpen {marker}", 1)
    assert changed != original
    texts.write_text(changed, encoding="utf-8")
    manifest, _ = build_manifest(ENV, load_knowledge_base(root))
    personal = manifest["bots"][0]["commandLists"][0]["commands"]
    assert personal[0]["description"] == f"Alle onderwerpen {marker}"
    # Through the environment too (what `wegwijzer teams-package` uses).
    out = build_package(tmp_path / "pkg", {**ENV, "WEGWIJZER_KNOWLEDGE_DIR": str(root)})
    assert out.is_file()


def test_knowledge_folder_without_teams_texts_is_refused(tmp_path: Path) -> None:
    # `kb validate` checks the Teams wording like the engine's; the package names the
    # folder that does not load.
    root = make_test_kb(tmp_path)
    texts = root / "texts.yaml"
    lines = texts.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("  teams_app_name_full:"))
    del lines[start + 2]  # its English line
    texts.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="teams_app_name_full' has no 'en'"):
        load_knowledge_base(root)
    with pytest.raises(ValueError, match="WEGWIJZER_KNOWLEDGE_DIR"):
        build_manifest({**ENV, "WEGWIJZER_KNOWLEDGE_DIR": str(root)})
    shutil.rmtree(root)
    with pytest.raises(ValueError, match="WEGWIJZER_KNOWLEDGE_DIR"):
        build_manifest({**ENV, "WEGWIJZER_KNOWLEDGE_DIR": str(root)})


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_command_title_is_a_command(teams_engine: Engine, lang: str) -> None:
    for name in dict.fromkeys((*PERSONAL_COMMANDS, *GROUP_COMMANDS)):
        title = teams_engine.kb.text(f"teams_command_{name}", lang)
        reply = teams_engine.ask(title)
        assert reply.kind in (ReplyKind.MENU, ReplyKind.INFO, ReplyKind.FORGOTTEN), title


def test_platform_contract() -> None:
    assert PLATFORM.name == "teams" and PLATFORM.env_switch == "WEGWIJZER_TEAMS_PORT"
    env = teams_env("http://127.0.0.1:1", "http://127.0.0.1:2")
    PLATFORM.check(env)  # good settings: no error, nothing opened
    for name, value in [("WEGWIJZER_TEAMS_PORT", "x"), ("MicrosoftAppId", "")]:
        with pytest.raises(SettingsError, match=name):
            PLATFORM.check({**env, name: value})
    assert issubclass(SettingsError, ValueError)


async def test_missing_teams_texts_fall_back_to_engine_texts(
    teams: Teams, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A knowledge folder from before the Teams keys: the bot still answers every case.
    texts = teams.engine.kb.texts
    for key in TEXT_FALLBACKS:
        monkeypatch.delitem(texts, key)  # type: ignore[attr-defined]
    body = teams.message(None, attachments=[{"contentType": "image/png", "contentUrl": "x"}])
    status, _ = await teams.post(body)
    assert status == 200
    assert "Ik kon je bericht niet lezen" in flatten(teams.connector.cards()[-1])
    room = {"conversation": "19:r@thread.v2", "conversation_type": "groupChat"}
    status, _ = await teams.post(
        teams.message(
            None, kind="conversationUpdate", membersAdded=[{"id": "28:" + APP_ID}], **room
        )
    )
    assert status == 200
    assert "gedeelde chat" in flatten(teams.connector.cards()[-1])
    assert "texts.yaml has no 'teams_attachment'" in teams.logs.getvalue()


async def test_did_this_help_is_two_buttons_that_answer(teams: Teams) -> None:
    def submits() -> list[str]:
        card = teams.connector.cards()[-1]
        return [str(a.get("data", {}).get("wegwijzer", "")) for a in actions(card)]

    status, _ = await teams.post(teams.message("ik word gepest door mijn leidinggevende"))
    assert status == 200
    yes = [d for d in submits() if d.startswith("feedback:yes")]
    assert yes and any(d.startswith("feedback:no") for d in submits())
    before = len(teams.connector.received)
    status, _ = await teams.post(teams.message("", value={"wegwijzer": yes[0]}))
    assert status == 200 and len(teams.connector.received) == before + 1
    assert not any(d.startswith("feedback:") for d in submits())
