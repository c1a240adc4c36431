"""The log guard: nio logs event bodies in some warnings and whole sync responses at
debug, and peewee (under nio's store) logs SQL parameters. Their loggers are cut off from
the root logger and re-emitted with the text withheld, whatever else is configured."""

from __future__ import annotations

import logging

#: Third-party loggers that may carry event content; their text never leaves this module.
GUARDED_LOGGERS = ("nio", "peewee")


class _WithheldHandler(logging.Handler):
    """Passes third-party records on to the root handlers with their text removed."""

    def emit(self, record: logging.LogRecord) -> None:
        record.msg = "(third-party log text withheld)"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        for handler in logging.getLogger().handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


def guard_third_party_logging() -> None:
    """Cut nio's and peewee's loggers off from their own text, whatever else is configured."""
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        if not any(isinstance(h, _WithheldHandler) for h in logger.handlers):
            logger.addHandler(_WithheldHandler())
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
