"""The console chat: a terminal, or piped input answered line by line."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from typing import TextIO

from bot import Engine, Lang, Message, Reply, conversation_key

_BOLD, _DIM, _RED, _RESET = "\033[1m", "\033[2m", "\033[31m", "\033[0m"


def render(reply: Reply, *, color: bool, width: int = 80) -> str:
    """Plain text for pipes; wrapped and lightly styled for a terminal."""
    if not color:
        return reply.plain_text()

    def wrap(text: str, style: str = "") -> str:
        out = []
        for para in text.split("\n"):
            indent = "  " if para.startswith("- ") else ""
            lines = textwrap.wrap(para, width=width, subsequent_indent=indent) or [""]
            out.append("\n".join(f"{style}{line}{_RESET if style else ''}" for line in lines))
        return "\n".join(out)

    parts: list[str] = []
    if reply.crisis is not None:
        parts.append(wrap(reply.crisis.text, _BOLD + _RED))
        parts.extend(
            wrap(f"- {c.name}: {', '.join(m.value for m in c.methods)}")
            for c in reply.crisis.contacts
        )
    if reply.title:
        parts.append(f"{_BOLD}{reply.title}{_RESET}")
    if reply.text:
        parts.append(wrap(reply.text))
    if reply.choices:
        lines = [reply.choices_prompt] if reply.choices_prompt else []
        lines += [f"  {_BOLD}{c.number}{_RESET}. {c.label}" for c in reply.choices]
        parts.append("\n".join(lines))
    if reply.contacts:
        lines = [f"{_BOLD}{reply.contacts_intro}{_RESET}"] if reply.contacts_intro else []
        for c in reply.contacts:
            org = f" ({c.organisation})" if c.organisation else ""
            lines.append(wrap(f"- {c.name}{org}: {c.role_line}"))
            reach = ", ".join(m.value for m in c.methods)
            if reach:
                lines.append(f"    {reach}")
        parts.append("\n".join(lines))
    if reply.sources:
        lines = [f"{_DIM}{reply.labels.get('sources', 'Sources')}:"]
        lines += [
            f"- {s.title}{f' ({s.article})' if s.article else ''}: {s.url}" for s in reply.sources
        ]
        if reply.reviewed:
            lines.append(f"{reply.labels.get('reviewed', 'Checked')}: {reply.reviewed}")
        parts.append("\n".join(lines) + _RESET)
    if reply.feedback is not None:
        fb = reply.feedback
        parts.append(f"{fb.prompt}  {_BOLD}{fb.yes_label}{_RESET} / {_BOLD}{fb.no_label}{_RESET}")
    if reply.footer:
        parts.append(wrap(reply.footer, _DIM))
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
