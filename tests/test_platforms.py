"""The platform contract against every platform in the registry."""

from __future__ import annotations

import pytest

from adapters import PLATFORMS
from tests.adapter_contract import PlatformContract


@pytest.fixture(params=list(PLATFORMS))
def platform_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


class TestEveryPlatform(PlatformContract):
    pass


def test_the_console_runs_when_nothing_is_configured() -> None:
    from adapters import configured

    assert configured({}) == []
    assert configured({"WEGWIJZER_LANG": "en"}) == []


def test_bot_never_names_an_adapter_module() -> None:
    from pathlib import Path

    bot = Path(__file__).resolve().parent.parent / "bot"
    for path in bot.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in PLATFORMS.values():
            assert name not in text, f"{path.name} names {name}: ask adapters.load() instead"
