"""The shared adapter contract against the real Teams endpoint, cards flattened to text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adapter_contract import AdapterContract, Harness
from tests.teams.conftest import Teams
from tests.teams.helpers import card_of, flatten

pytestmark = pytest.mark.teams


@pytest.fixture
async def harness(teams: Teams, tmp_path: Path) -> Harness:
    async def send(text: str) -> str:
        before = len(teams.connector.received)
        status, _ = await teams.post(teams.message(text, conversation="a:contract-chat"))
        assert status == 200
        # The endpoint answers after the turn, so the reply has already arrived.
        assert len(teams.connector.received) == before + 1
        return flatten(card_of(teams.connector.received[-1].body))

    def captured() -> str:
        # Logs, plus everything the connector received (what left the bot).
        sent = "\n".join(str(c.body) for c in teams.connector.received)
        return teams.logs.getvalue() + "\n" + sent

    return Harness(send=send, written=[tmp_path], captured=captured)


class TestTeamsContract(AdapterContract):
    pass
