"""The knowledge-base schema is declared once (bot/_schema.py) and the loader follows it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot import KnowledgeBaseError, load_knowledge_base
from bot._schema import (
    ContactInfo,
    Entry,
    EntryText,
    Organisation,
    SourceRecord,
    Theme,
    TriageOption,
    allowed_keys,
    keys,
)

RECORDS = (Entry, EntryText, SourceRecord, Theme, TriageOption, ContactInfo, Organisation)


def test_allowed_keys_follow_from_the_fields() -> None:
    assert allowed_keys(Entry) == {
        *("id", "theme", "audience", "routes", "related", "reviewed", "owner", "sources"),
        *("nl", "en"),
    }
    assert allowed_keys(EntryText) == {
        *("title", "answer", "details", "questions", "keywords", "aspects"),
    }
    assert allowed_keys(SourceRecord) == {"title", "url", "article"}
    person = allowed_keys(ContactInfo, frozenset({"id"}))
    assert "id" not in person and {"email", "phone", "teams", "location"} <= person


@pytest.mark.parametrize("cls", RECORDS)
def test_every_yaml_field_says_what_it_is_for(cls: type) -> None:
    for name, k in keys(cls):
        assert k.help.strip(), f"{cls.__name__}.{name} has no help text"
    read = {name for name, _ in keys(cls)}
    plain = {f.name for f in dataclasses.fields(cls)} - read
    # Only where it was found, and whether it came from elsewhere.yaml, is not from YAML.
    assert plain <= {"path", "line", "outside"}, plain


def test_unknown_key_lists_the_schema_keys_with_file_and_line(test_kb_dir: Path) -> None:
    path = test_kb_dir / "entries" / "test.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    owner: Tests\n", "    owner: Tests\n    eigenaar: X\n", 1))
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(test_kb_dir)
    messages = [str(p) for p in caught.value.problems if p.severity == "error"]
    hit = [m for m in messages if "unknown key 'eigenaar' in an entry" in m]
    assert hit and hit[0].startswith("knowledge/entries/test.yaml:")
    assert "known: audience, en, id, nl, owner, related, reviewed, routes, sources, theme" in hit[0]


def test_details_is_read_and_tidied(test_kb_dir: Path) -> None:
    path = test_kb_dir / "entries" / "test.yaml"
    anchor = "      keywords: [pesten, gepest, pestgedrag]\n"
    text = path.read_text(encoding="utf-8")
    details = "      details: |\n        Een\n        regel.\n"
    path.write_text(text.replace(anchor, anchor + details))
    entry = load_knowledge_base(test_kb_dir).by_id["pesten"]
    assert entry.text("nl").details == "Een regel."
    assert entry.text("en").details == ""
