"""Fixtures: one real Synapse per test session (on loopback, SQLite in a temp folder),
fresh users per test, and the Matrix adapter running in the test's event loop."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from bot import configure_logging
from tests.matrix.helpers import Person, capture_logs
from tests.matrix.synapse import Synapse, User


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bot_user(synapse: Synapse) -> User:
    return synapse.register(f"wegwijzer-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def people(
    synapse: Synapse, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
    created: list[Person] = []

    async def make(name: str = "person") -> Person:
        user = synapse.register(f"{name}-{uuid.uuid4().hex[:8]}")
        person = Person(synapse, user, tmp_path / "people" / user.user_id[1:].split(":")[0])
        await person.login()
        created.append(person)
        return person

    yield make
    for person in created:
        await person.close()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = capture_logs("DEBUG")
    yield stream
    with contextlib.suppress(Exception):
        configure_logging("WARNING", stream=io.StringIO())
