"""Conversation state in a real Redis: shared between engines, expiring, deleted on
`vergeet`, and a memory stand-in when Redis is stopped or hangs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bot._privacy as privacy
from bot import Engine, Message, ReplyKind, conversation_key, load_knowledge_base
from bot._metrics import Metrics
from bot._state import (
    LOCAL_FIELDS,
    ConversationStore,
    State,
    StateFormatError,
    StateStore,
    state_from_json,
    state_to_json,
)
from bot._stores import KEY_PREFIX, RedisStore, StateSettingsError, state_settings, store_from_env
from tests.replicas.redis_server import RedisServer

SECRET = "s" * 32
REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.replicas


@pytest.fixture(autouse=True)
def _keep_the_key_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """`store_from_env` sets the process's conversation-key secret: undo it after each test."""
    monkeypatch.setattr(privacy, "_KEY", privacy._KEY)


def full_state() -> State:
    """A state with a non-default value in every field, whatever fields State has."""
    samples: dict[type, object] = {bool: True, str: "voorbeeld", int: 7, float: 2.5}
    state = State(
        lang="en",
        lang_chosen=True,
        organisation="voorbeeld",
        choices={1: "menu", 2: "entry:pesten"},
        last_entry="pesten",
    )
    for f in dataclasses.fields(State):
        if getattr(state, f.name) == f.default and f.name not in LOCAL_FIELDS:
            # A field another change added: give it a value of its own type.
            setattr(state, f.name, samples.get(type(f.default), f.default))
    return state


def test_state_json_carries_every_field_but_the_local_clock() -> None:
    state = full_state()
    state.seen = 123.0
    data = json.loads(state_to_json(state))
    assert set(data) == {f.name for f in dataclasses.fields(State)} - LOCAL_FIELDS
    back = state_from_json(state_to_json(state))
    for f in dataclasses.fields(State):
        if f.name not in LOCAL_FIELDS:
            assert getattr(back, f.name) == getattr(state, f.name), f.name
    assert back.seen == 0.0


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"lang": "fr"}',
        '{"choices": {"een": "menu"}}',
        '{"choices": {"1": 5}}',
        '{"lang_chosen": "yes"}',
        '{"organisation": 3}',
    ],
)
def test_damaged_state_is_refused(raw: str) -> None:
    with pytest.raises(StateFormatError):
        state_from_json(raw)


def test_unknown_and_missing_fields() -> None:
    state = state_from_json('{"lang": "nl", "from_a_newer_version": 1}')
    assert state.lang == "nl" and state.organisation is None and state.choices == {}


def test_both_stores_fit_the_interface(redis_server: RedisServer) -> None:
    assert isinstance(ConversationStore(), StateStore)
    assert isinstance(RedisStore(redis_server.url), StateStore)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"WEGWIJZER_STATE_URL": "redis://127.0.0.1:1/0"}, "WEGWIJZER_STATE_SECRET is not set"),
        (
            {"WEGWIJZER_STATE_URL": "redis://127.0.0.1:1/0", "WEGWIJZER_STATE_SECRET": "kort"},
            "WEGWIJZER_STATE_SECRET is too short",
        ),
        (
            {"WEGWIJZER_STATE_URL": "http://wachtwoord@host", "WEGWIJZER_STATE_SECRET": SECRET},
            "WEGWIJZER_STATE_URL must start with",
        ),
        (
            {
                "WEGWIJZER_STATE_URL": "redis://h/0",
                "WEGWIJZER_STATE_SECRET": SECRET,
                "WEGWIJZER_STATE_TIMEOUT_MS": "lang",
            },
            "WEGWIJZER_STATE_TIMEOUT_MS",
        ),
    ],
)
def test_settings_are_checked(env: dict[str, str], variable: str) -> None:
    with pytest.raises(StateSettingsError) as caught:
        state_settings(env)
    assert variable in str(caught.value)
    assert "wachtwoord" not in str(caught.value)


def test_a_malformed_url_is_refused_without_echoing_it() -> None:
    env = {"WEGWIJZER_STATE_URL": "redis://u:wachtwoord@h:99999999/0"}
    env["WEGWIJZER_STATE_SECRET"] = SECRET
    with pytest.raises(StateSettingsError, match="not a valid Redis URL") as caught:
        store_from_env(env)
    assert "wachtwoord" not in str(caught.value)


def test_without_a_url_state_stays_in_memory() -> None:
    assert isinstance(store_from_env({}), ConversationStore)


def test_one_secret_gives_every_process_the_same_keys() -> None:
    before = conversation_key("teams", "tenant", "conv")
    store_from_env({"WEGWIJZER_STATE_SECRET": SECRET})
    mine = conversation_key("teams", "tenant", "conv")
    assert mine != before
    code = (
        "from bot._stores import store_from_env; from bot import conversation_key;"
        f"store_from_env({{'WEGWIJZER_STATE_SECRET': {SECRET!r}}});"
        "print(conversation_key('teams', 'tenant', 'conv'))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert other.stdout.strip() == mine
    assert mine.startswith("teams:") and "tenant" not in mine and "conv" not in mine


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> object:
    from tests.conftest import make_test_kb

    return load_knowledge_base(make_test_kb(tmp_path_factory.mktemp("kb")))


@pytest.fixture
async def stores(redis_server: RedisServer) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    metrics = Metrics()
    a = RedisStore(redis_server.url, timeout=0.3, retry_seconds=0.2, metrics=metrics)
    b = RedisStore(redis_server.url, timeout=0.3, retry_seconds=0.2, metrics=metrics)
    yield a, b
    await a.close()
    await b.close()


async def test_two_engines_share_one_conversation(
    kb: object, stores: tuple[RedisStore, RedisStore], redis_server: RedisServer
) -> None:
    a, b = (Engine(kb, store=s, metrics=Metrics()) for s in stores)  # type: ignore[arg-type]
    conv = "teams:0123456789abcdef"
    menu = await a.handle(Message(conv, "menu"))
    assert menu.kind is ReplyKind.MENU
    theme = await b.handle(Message(conv, "1"))  # the number offered by the other replica
    assert theme.kind is ReplyKind.MENU
    assert {c.action for c in theme.choices} == {"entry:pesten", "entry:klacht"}
    n = next(c.number for c in theme.choices if c.action == "entry:klacht")
    answer = await a.handle(Message(conv, str(n)))
    assert answer.entry == "klacht"
    assert (await b.handle(Message(conv, "english"))).lang == "en"
    assert (await a.handle(Message(conv, "ik word gepest"))).lang == "en"
    await b.handle(Message(conv, "organisatie voorbeeld"))
    assert (await a.store.load(conv)).organisation == "voorbeeld"
    ttl = redis_server.client().ttl(KEY_PREFIX + conv)
    assert 1790 <= ttl <= 1800  # the same 30 idle minutes as in memory
    forgotten = await a.handle(Message(conv, "vergeet"))
    assert forgotten.kind is ReplyKind.FORGOTTEN
    assert redis_server.dump() == {}  # deleted at once, not left to expire
    fresh = await b.store.load(conv)
    assert fresh.organisation is None and fresh.lang is None


async def test_the_synchronous_path_needs_the_memory_store(
    kb: object, stores: tuple[RedisStore, RedisStore]
) -> None:
    engine = Engine(kb, store=stores[0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="handle"):
        engine.respond(Message("teams:x", "menu"))
    assert engine.ask("ik word gepest").kind is ReplyKind.ANSWER  # ask keeps working


async def test_redis_stopped_then_back(
    kb: object,
    stores: tuple[RedisStore, RedisStore],
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a_store, b_store = stores
    a = Engine(kb, store=a_store, metrics=Metrics())  # type: ignore[arg-type]
    b = Engine(kb, store=b_store, metrics=Metrics())  # type: ignore[arg-type]
    conv, gone = "teams:aaaa", "teams:bbbb"
    await a.handle(Message(conv, "english"))
    await a.handle(Message(gone, "organisatie voorbeeld"))
    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="wegwijzer.state")
    started = time.monotonic()
    # Replies go on with this process's memory: the language chosen before is kept.
    reply = await a.handle(Message(conv, "menu"))
    assert reply.kind is ReplyKind.MENU and reply.lang == "en"
    assert (await a.handle(Message(conv, "1"))).kind is ReplyKind.MENU
    assert (await a.handle(Message(gone, "vergeet"))).kind is ReplyKind.FORGOTTEN
    for _ in range(5):
        await a.handle(Message(conv, "help"))
    assert time.monotonic() - started < 3
    assert not a_store.healthy
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1  # one a minute, not one a turn
    assert "ConnectionError" in warnings[0].getMessage()
    assert a_store.metrics.state_errors.labels("load")._value.get() >= 1
    assert a_store.metrics.state_up._value.get() == 0
    # Numbers offered here during the outage are still good here.
    theme = await a.handle(Message(conv, "menu"))
    assert theme.kind is ReplyKind.MENU
    redis_server.start()  # empty: no persistence
    await asyncio.sleep(0.25)
    # Back to Redis: the state written during the outage goes back to Redis first...
    assert (await a.handle(Message(conv, "1"))).kind is ReplyKind.MENU
    assert a_store.healthy and a_store.metrics.state_up._value.get() == 1
    # ...so the other replica sees the language chosen before the outage.
    assert (await b.handle(Message(conv, "help"))).lang == "en"
    # The delete that could not be done is done.
    assert (KEY_PREFIX + gone).encode() not in redis_server.dump()
    assert any("reachable again" in r.getMessage() for r in caplog.records)


async def test_a_hung_redis_never_hangs_a_turn(
    kb: object, stores: tuple[RedisStore, RedisStore], redis_server: RedisServer
) -> None:
    store = stores[0]
    engine = Engine(kb, store=store, metrics=Metrics())  # type: ignore[arg-type]
    conv = "teams:cccc"
    await engine.handle(Message(conv, "english"))
    redis_server.pause()
    try:
        started = time.monotonic()
        reply = await engine.handle(Message(conv, "menu"))
        took = time.monotonic() - started
        assert reply.kind is ReplyKind.MENU and reply.lang == "en"
        assert took < 0.3 * 2 + 0.6  # a timed-out load and a timed-out save at most
        assert not store.healthy
        started = time.monotonic()
        await engine.handle(Message(conv, "help"))  # the third failure in a row
        assert time.monotonic() - started < 0.3 + 0.6
        started = time.monotonic()
        await engine.handle(Message(conv, "help"))
        assert time.monotonic() - started < 0.25  # no Redis wait (0.3): memory alone for now
    finally:
        redis_server.resume()
    await asyncio.sleep(0.25)
    assert await store.probe()


async def test_damaged_value_starts_the_conversation_anew(
    kb: object, stores: tuple[RedisStore, RedisStore], redis_server: RedisServer
) -> None:
    redis_server.client().set(KEY_PREFIX + "teams:dddd", b"\xff{not json")
    engine = Engine(kb, store=stores[0], metrics=Metrics())  # type: ignore[arg-type]
    assert (await engine.handle(Message("teams:dddd", "menu"))).kind is ReplyKind.MENU


async def test_no_message_text_in_redis_or_metrics(
    kb: object, stores: tuple[RedisStore, RedisStore], redis_server: RedisServer
) -> None:
    canary = "kanarie-a81f"
    metrics = Metrics()
    engine = Engine(kb, store=stores[0], metrics=metrics)  # type: ignore[arg-type]
    conv = conversation_key("teams", "tenant", canary)
    texts = [
        f"ik word gepest {canary}",
        canary,
        f"organisatie {canary}",
        f"ik werk bij voorbeeld en {canary}",
        f"ik wil niet meer leven {canary}",
        "menu",
        "1",
    ]
    for text in texts:
        await engine.handle(Message(conv, text))
    await engine.handle(Message(conv, "", action=f"org:{canary}"))
    await engine.handle(Message(conv, "", action=f"entry:{canary}"))
    dump = redis_server.dump()
    assert dump
    for key, value in dump.items():
        assert canary.encode() not in key + value
        assert b"gepest" not in value and b"leven" not in value
    assert canary.encode() not in metrics.exposition()


def test_the_memory_store_needs_nothing() -> None:
    # The single-machine default: no Redis, no secret.
    store = ConversationStore()
    assert store.healthy and asyncio.run(store.load("x")) is store.peek("x")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"WEGWIJZER_STATE_URL": "redis://127.0.0.1:1/0"}, "WEGWIJZER_STATE_SECRET is not set"),
        (
            {"WEGWIJZER_STATE_URL": "redis://u:wachtwoord@h:99999999/0"}
            | {"WEGWIJZER_STATE_SECRET": SECRET},
            "WEGWIJZER_STATE_URL is not a valid Redis URL",
        ),
        ({"WEGWIJZER_METRICS_PORT": "poort"}, "WEGWIJZER_METRICS_PORT must be a port number"),
    ],
)
def test_run_refuses_to_start_with_bad_settings(
    extra: dict[str, str], message: str, test_kb_dir: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEGWIJZER_", "Microsoft"))}
    env.update(PYTHONPATH=str(REPO), WEGWIJZER_TEAMS_PORT="0", **extra)
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--knowledge", str(test_kb_dir), "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and "wachtwoord" not in out.stderr
