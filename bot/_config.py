"""Settings shared by the engine and the CLI, read from the environment without side effects."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_REPO_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def default_knowledge_dir(env: Mapping[str, str] | None = None) -> Path:
    """`WEGWIJZER_KNOWLEDGE_DIR`, or the knowledge base bundled with the code."""
    env = os.environ if env is None else env
    value = env.get("WEGWIJZER_KNOWLEDGE_DIR", "").strip()
    return Path(value) if value else _REPO_KNOWLEDGE


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """`WEGWIJZER_DATA_DIR`: the only place the bot writes (platform keys, sync tokens)."""
    env = os.environ if env is None else env
    value = env.get("WEGWIJZER_DATA_DIR", "").strip()
    return Path(value) if value else Path.cwd() / "data"


def log_level(env: Mapping[str, str] | None = None) -> str:
    """`WEGWIJZER_LOG_LEVEL` (default INFO)."""
    env = os.environ if env is None else env
    return env.get("WEGWIJZER_LOG_LEVEL", "INFO").strip().upper() or "INFO"


#: Values of WEGWIJZER_AUDIENCE: everyone (default), or counsellors only.
AUDIENCES = ("everyone", "counsellors")


def counsellors_only(env: Mapping[str, str] | None = None) -> bool:
    """`WEGWIJZER_AUDIENCE=counsellors`: every answer shows the counsellors' details.

    Raises:
        ValueError: Another value than "everyone" or "counsellors"; the message names it.
    """
    env = os.environ if env is None else env
    value = env.get("WEGWIJZER_AUDIENCE", "").strip().lower() or "everyone"
    if value not in AUDIENCES:
        raise ValueError(
            f"WEGWIJZER_AUDIENCE must be one of {', '.join(AUDIENCES)} (got {value!r})"
        )
    return value == "counsellors"


def semantic_enabled(env: Mapping[str, str] | None = None) -> bool:
    """`WEGWIJZER_SEMANTIC=off` decides without the sentence model (bot/_semantic.py):
    every reply within 2 ms, more "did you mean". On by default.

    Raises:
        ValueError: Another value than "on" or "off"; the message names it.
    """
    env = os.environ if env is None else env
    value = env.get("WEGWIJZER_SEMANTIC", "").strip().lower() or "on"
    if value not in ("on", "off"):
        raise ValueError(f"WEGWIJZER_SEMANTIC must be on or off (got {value!r})")
    return value == "on"
