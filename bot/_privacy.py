"""Privacy guards: nothing a person writes may reach a log, a file or crash output.

Our own code never logs message text. Third-party libraries do (matrix-nio logs event
bodies in warnings and whole sync responses at debug; botbuilder puts activity text in
exception messages), so:

- records from loggers outside Wegwijzer keep only their logger name and level, never
  their message or arguments;
- exception messages are never formatted: tracebacks show type, file, line and function;
- the same goes for uncaught exceptions (sys and asyncio hooks) and for warnings.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import sys
import traceback
import warnings
from types import TracebackType
from typing import Any, TextIO

#: Loggers whose messages are written by Wegwijzer itself and never hold user text.
OWN_LOGGERS = ("wegwijzer", "bot", "adapters")

# A fresh key per process: conversation keys cannot be linked to platform ids, and mean
# nothing after a restart (state is in memory only anyway). Replicas sharing state in
# Redis need the same keys, so `set_conversation_secret` replaces it at start-up.
_KEY = secrets.token_bytes(32)


def set_conversation_secret(secret: str) -> None:
    """Derive conversation keys from `secret` (`WEGWIJZER_STATE_SECRET`) from now on."""
    global _KEY
    # Domain-separated, so the same secret used elsewhere yields unrelated keys here.
    _KEY = hashlib.sha256(b"wegwijzer conversation key\x00" + secret.encode()).digest()


def conversation_key(platform: str, *ids: str) -> str:
    """An opaque key for one conversation, derived from platform ids with a process secret."""
    msg = "\x00".join((platform, *ids)).encode("utf-8", "replace")
    return platform + ":" + hmac.new(_KEY, msg, hashlib.sha256).hexdigest()[:32]


def safe_traceback(exc_type: type[BaseException] | None, tb: TracebackType | None) -> str:
    """A traceback with exception types and code locations only, no messages or values."""
    lines = ["Traceback (most recent call last, messages withheld):"]
    for frame in traceback.extract_tb(tb):
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
    name = exc_type.__qualname__ if exc_type is not None else "Exception"
    module = getattr(exc_type, "__module__", "")
    lines.append(f"{module}.{name}" if module and module != "builtins" else name)
    return "\n".join(lines)


def _is_own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


class PrivacyFilter(logging.Filter):
    """Blanks third-party log messages and strips exception messages from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _is_own(record.name):
            record.msg = "(message withheld: third-party log text may contain user text)"
            record.args = None
        if record.exc_info:
            exc_type, _, tb = record.exc_info
            record.exc_text = safe_traceback(exc_type, tb)
            record.exc_info = None
        record.stack_info = None
        return True


class _SafeFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return safe_traceback(ei[0], ei[2])


_HANDLER_NAME = "wegwijzer-privacy"


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Route all logging through one privacy-filtered handler and install safe hooks.

    Idempotent: calling it again replaces the handler (tests use that to capture output).
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == _HANDLER_NAME:
            root.removeHandler(h)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(PrivacyFilter())
    handler.setFormatter(_SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party loggers never get to DEBUG: nothing useful there, and much risk.
    for name in ("nio", "aiohttp", "botbuilder", "botframework", "msrest", "urllib3", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.WARNING))
    logging.getLogger("aiohttp.access").disabled = True
    logging.captureWarnings(True)
    warnings.showwarning = _show_warning
    sys.excepthook = _excepthook
    return handler


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    logging.getLogger("wegwijzer.warnings").warning(
        "%s at %s:%s", category.__name__, filename, lineno
    )


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    sys.stderr.write(safe_traceback(exc_type, tb) + "\n")


def asyncio_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An event-loop exception handler that logs no exception message or context values."""
    exc = context.get("exception")
    logging.getLogger("wegwijzer").error(
        "unhandled error in the event loop: %s",
        type(exc).__name__ if exc is not None else "no exception",
        exc_info=(type(exc), exc, exc.__traceback__) if exc is not None else None,
    )
