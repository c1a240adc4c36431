"""The shared adapter contract against the real web endpoint, pages flattened to text."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.web._app import build_app
from adapters.web._settings import Settings
from bot import Engine, default_knowledge_dir, load_knowledge_base
from tests.adapter_contract import AdapterContract, Harness

_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r'<a href="([^"]+)"[^>]*>')
_ARTICLE = re.compile(r"<article\b.*?</article>", re.DOTALL)


def flatten(fragment: str) -> str:
    """What a person reads: tags become spaces (a link keeps its address), entities
    become characters."""
    return html.unescape(_TAG.sub(" ", _LINK.sub(r" \1 ", fragment)))


@pytest.fixture
async def harness(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    caplog.set_level(logging.DEBUG)
    engine = Engine(load_knowledge_base(default_knowledge_dir()))
    app = build_app(engine, Settings(port=0, per_conversation_per_minute=1000))
    async with TestClient(TestServer(app, access_log=None)) as client:
        sent: list[str] = []

        async def send(text: str) -> str:
            resp = await client.post("/api/turn", json={"token": "c" * 32, "text": text})
            data = await resp.json()
            sent.append(str(data.get("html", "")))
            return flatten(str(data.get("html", "")))

        async def welcome() -> str:
            # Every fresh page is a new conversation; its first article is the greeting.
            resp = await client.get("/")
            assert resp.status == 200
            page = await resp.text()
            first = _ARTICLE.search(page)
            assert first is not None, "the page has no article"
            return flatten(first.group(0))

        lacks = {
            "reply": "the web chat has no replies that quote an earlier message",
            "edit": "a message sent in the web chat cannot be edited",
            "shared": "the web chat is one person's page; there is no shared room",
        }
        yield Harness(
            send=send,
            written=[tmp_path],
            captured=lambda: caplog.text + "\n".join(sent),
            welcome=welcome,
            lacks=lacks,
        )


class TestWebContract(AdapterContract):
    pass
