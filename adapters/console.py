"""The console chat: a terminal, or piped input answered line by line.

Runs when no other platform is configured (`wegwijzer run`), or on `wegwijzer chat`.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from adapters._contract import SettingsError
from bot import (
    LANGS,
    AnswerSection,
    ChoicesSection,
    Contact,
    ContactsSection,
    CrisisSection,
    DetailsSection,
    DisclaimerSection,
    Engine,
    FeedbackSection,
    Lang,
    Message,
    Reply,
    SourcesSection,
    contact_lines,
    conversation_key,
)

_BOLD, _DIM, _RED, _RESET = "\033[1m", "\033[2m", "\033[31m", "\033[0m"
#: The reply language to start in; otherwise the engine follows the person's language.
LANG_SETTING = "WEGWIJZER_LANG"


def render(reply: Reply, *, color: bool, width: int = 80) -> str:
    """Plain text for pipes; wrapped and lightly styled for a terminal."""
    if not color:
        return reply.plain_text()

    def wrap(text: str, style: str = "") -> str:
        out = []
        for para in text.split("\n"):
            lead = para[: len(para) - len(para.lstrip(" "))]
            hang = lead + ("  " if para.lstrip(" ").startswith("- ") else "")
            lines = textwrap.wrap(para, width=width, subsequent_indent=hang) or [""]
            out.append("\n".join(f"{style}{line}{_RESET if style else ''}" for line in lines))
        return "\n".join(out)

    def contact(c: Contact) -> str:
        # The same lines as the plain form (no repeated address, notes kept), wrapped.
        return wrap(contact_lines(c))

    parts: list[str] = []
    for sec in reply.sections():
        match sec:
            case CrisisSection(text, contacts):
                parts.append(wrap(text, _BOLD + _RED))
                parts.extend(contact(c) for c in contacts)
            case AnswerSection(title, text):
                if title:
                    parts.append(f"{_BOLD}{title}{_RESET}")
                if text:
                    parts.append(wrap(text))
            case DetailsSection(label, text, shown):
                if shown:
                    parts.append(f"{_BOLD}{label}{_RESET}\n{wrap(text)}")
                else:
                    parts.append(wrap(label, _DIM))
            case ChoicesSection(prompt, choices):
                lines = [prompt] if prompt else []
                lines += [f"  {_BOLD}{c.number}{_RESET}. {c.label}" for c in choices]
                parts.append("\n".join(lines))
            case ContactsSection(intro, contacts):
                lines = [f"{_BOLD}{intro}{_RESET}"] if intro else []
                lines += [contact(c) for c in contacts]
                parts.append("\n".join(lines))
            case SourcesSection(label, sources, reviewed, reviewed_label):
                lines = [f"{_DIM}{label}:"]
                for s in sources:
                    art = f" ({s.article})" if s.article else ""
                    lines.append(f"- {s.title}{art}: {s.url}")
                if reviewed is not None:
                    lines.append(f"{reviewed_label}: {reviewed}")
                parts.append("\n".join(lines) + _RESET)
            case FeedbackSection(prompt=prompt, yes_label=yes, no_label=no):
                parts.append(f"{prompt}  {_BOLD}{yes}{_RESET} / {_BOLD}{no}{_RESET}")
            case DisclaimerSection(text):
                parts.append(wrap(text, _DIM))
    return "\n\n".join(parts)


async def run_console(
    engine: Engine, stdin: TextIO, stdout: TextIO, *, lang: Lang | None = None
) -> int:
    """Chat until end of input or "stop"/"exit"; returns the exit code."""
    interactive = stdin.isatty() and stdout.isatty()
    width = min(shutil.get_terminal_size((80, 24)).columns, 100) - 2
    key = conversation_key("console", "local")
    loop = asyncio.get_running_loop()
    if interactive:
        stdout.write(render(engine.welcome(lang or "nl"), color=True, width=width) + "\n\n")
        stdout.flush()
    while True:
        if interactive:
            stdout.write(f"{_BOLD}> {_RESET}")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        text = line.rstrip("\n")
        if interactive and text.strip().lower() in {"exit", "quit", "/exit", "/quit"}:
            break
        reply = await engine.handle(Message(conversation=key, text=text, lang_hint=lang))
        stdout.write(render(reply, color=interactive, width=width) + "\n\n")
        stdout.flush()
    engine.forget(key)
    return 0


def _lang(env: Mapping[str, str]) -> Lang | None:
    value = env.get(LANG_SETTING, "").strip().lower()
    if not value:
        return None
    for lang in LANGS:
        if value == lang:
            return lang
    raise SettingsError(f"{LANG_SETTING} must be one of {', '.join(LANGS)} (got {value!r})")


@dataclass(frozen=True, slots=True)
class ConsolePlatform:
    """The console as a platform: standard input and output of this process."""

    name: str = "console"
    #: No switch: the console runs when no other platform is configured.
    env_switch: str = ""

    def check(self, env: Mapping[str, str]) -> None:
        _lang(env)

    async def serve(self, engine: Engine, env: Mapping[str, str]) -> None:
        await run_console(engine, sys.stdin, sys.stdout, lang=_lang(env))


PLATFORM = ConsolePlatform()
