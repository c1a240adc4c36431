"""The adapter contract against the console adapter, one running chat over a real pipe."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import os
import pty
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.console import render, run_console
from bot import (
    Choice,
    Contact,
    ContactMethod,
    CrisisNotice,
    Engine,
    Reply,
    ReplyKind,
    Source,
    configure_logging,
)
from tests.adapter_contract import AdapterContract, Harness


class _Out(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture
async def harness(engine: Engine, tmp_path: Path) -> AsyncIterator[Harness]:
    logs = io.StringIO()
    configure_logging("DEBUG", stream=logs)
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r", encoding="utf-8", errors="replace")
    writer = os.fdopen(write_fd, "w", encoding="utf-8")
    out = _Out()
    task = asyncio.create_task(run_console(engine, stdin, out))

    async def send(text: str) -> str:
        start = len(out.getvalue())
        writer.write(text.replace("\n", " ") + "\n")
        writer.flush()
        for _ in range(500):  # every reply ends with a blank line
            await asyncio.sleep(0.01)
            seen = out.getvalue()[start:]
            if seen.endswith("\n\n"):
                return seen
        raise AssertionError("the console did not answer")

    async def welcome() -> str:
        return await _interactive_welcome(engine)

    lacks = {
        "reply": "a terminal has no replies that quote an earlier message",
        "edit": "a line sent to the console cannot be edited afterwards",
        "shared": "the console is one person at one terminal; there is no shared room",
    }
    yield Harness(
        send=send, written=[tmp_path], captured=logs.getvalue, welcome=welcome, lacks=lacks
    )
    writer.close()
    assert await asyncio.wait_for(task, 10) == 0
    stdin.close()
    with contextlib.suppress(Exception):
        configure_logging("WARNING", stream=io.StringIO())


_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


async def _interactive_welcome(engine: Engine) -> str:
    """Start the console on a real terminal (a pseudo-terminal) and read what it shows
    before the first prompt; then leave with "exit"."""
    main, side = pty.openpty()
    stdin = os.fdopen(side, "r", encoding="utf-8", errors="replace")
    stdout = os.fdopen(os.dup(side), "w", encoding="utf-8")
    os.set_blocking(main, False)
    task = asyncio.create_task(run_console(engine, stdin, stdout))
    shown = b""
    try:
        for _ in range(500):
            await asyncio.sleep(0.01)
            with contextlib.suppress(BlockingIOError):
                shown += os.read(main, 65536)
            if b"> " in shown:  # the prompt: the welcome is complete
                break
        else:
            raise AssertionError("the console showed no prompt")
        os.write(main, b"exit\n")
        assert await asyncio.wait_for(task, 10) == 0
    finally:
        task.cancel()
        stdin.close()
        stdout.close()
        os.close(main)
    return _ESCAPE.sub("", shown.decode("utf-8", "replace")).replace("\r", "")


class TestConsoleContract(AdapterContract):
    pass


def _sample_reply() -> Reply:
    anna = Contact(
        "vpoo",
        "Anna de Vries (voorbeeld)",
        "Vertrouwenspersoon",
        methods=(
            ContactMethod("email", "anna@voorbeeld.example"),
            ContactMethod("teams", "anna@voorbeeld.example"),
            ContactMethod("phone", "070 000 0001", note="ma-do"),
        ),
        organisation="Voorbeeldministerie (voorbeeld)",
    )
    return Reply(
        kind=ReplyKind.ANSWER,
        lang="nl",
        title="Pesten",
        text="Antwoord.",
        crisis=CrisisNotice("Bel 112.", (Contact("emergency", "112", "Alarm"),)),
        details="Wettelijke basis.",
        sources=(Source("Arbowet", "https://wetten.overheid.nl/x", "art. 3"),),
        reviewed=dt.date(2026, 1, 1),
        contacts_intro="Wie kan je helpen:",
        contacts=(anna,),
        choices_prompt="Meer weten?",
        choices=(Choice(1, "Klacht", "entry:klacht"),),
        footer="Algemene informatie.",
        labels={"details": "Voor vertrouwenspersonen", "sources": "Bronnen"},
    )


@pytest.mark.parametrize("color", [True, False])
def test_console_renders_the_sections_in_order(color: bool) -> None:
    seen = render(_sample_reply(), color=color, width=200)
    order = ["Bel 112", "Pesten", "Antwoord", "Voor vertrouwenspersonen", "Meer weten"]
    order += ["Wie kan je helpen", "Bronnen", "Algemene informatie"]
    at = [seen.index(word) for word in order]
    assert at == sorted(at), seen
    assert seen.count("anna@voorbeeld.example") == 1  # e-mail that is also the Teams id
    assert "(voorbeeld) (Voorbeeldministerie" not in seen  # the marker once
    assert "070 000 0001 (ma-do)" in seen  # contact notes kept
    assert "Wettelijke basis." not in seen  # details folded unless shown


def test_console_plain_form_is_the_canonical_text() -> None:
    reply = _sample_reply()
    assert render(reply, color=False) == reply.plain_text()
