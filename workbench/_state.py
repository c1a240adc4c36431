"""The knowledge folder the workbench watches: the last good engine and the latest problems.

A changed folder is loaded afresh; when it is refused the last good engine stays in use
and the problems of the refused load are what the pages show. A folder that was broken
from the start has no engine at all: the pages then show only the problems.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot import Engine, KnowledgeBaseError, load_knowledge_base
from bot._kb import Problem, fingerprint
from bot._kbtools import lint

log = logging.getLogger("workbench")

#: How often the folder is looked at, in seconds (a fingerprint of names, sizes, mtimes).
WATCH_SECONDS = 1.0


@dataclass
class Snapshot:
    """What the pages show; replaced as a whole, never changed in place."""

    engine: Engine | None
    #: Problems of the latest load: its errors when refused, else warnings and lint.
    problems: tuple[Problem, ...]
    #: True when the files as they are now were refused (the engine is an older, good one).
    refused: bool
    version: int
    checked: _dt.datetime


def _load(root: Path, version: int, previous: Engine | None) -> Snapshot:
    now = _dt.datetime.now().replace(microsecond=0)
    try:
        kb = load_knowledge_base(root)
    except KnowledgeBaseError as exc:
        return Snapshot(previous, tuple(exc.problems), True, version, now)
    except OSError as exc:  # a file vanished while it was read: try again next round
        problem = Problem(str(root), 0, f"the folder could not be read ({exc.strerror})")
        return Snapshot(previous, (problem,), True, version, now)
    except Exception as exc:  # whatever a half-saved file does, the watcher must live on
        log.error("loading the knowledge folder failed: %s", type(exc).__name__)
        problem = Problem(str(root), 0, f"the folder could not be loaded ({type(exc).__name__})")
        return Snapshot(previous, (problem,), True, version, now)
    return Snapshot(Engine(kb), (*kb.warnings, *lint(kb)), False, version, now)


@dataclass
class Workbench:
    """Owns the current snapshot and tells listeners (the open pages) when it changes."""

    root: Path
    snapshot: Snapshot = field(init=False)
    #: The folder's fingerprint when the current snapshot was read (None: unreadable).
    loaded_from: str | None = field(init=False, default=None)
    _listeners: set[asyncio.Queue[int]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.loaded_from = self._fingerprint()
        self.snapshot = _load(self.root, 1, None)

    def _fingerprint(self) -> str | None:
        try:
            return fingerprint(self.root)
        except OSError:
            return None

    async def watch(self, interval: float = WATCH_SECONDS) -> None:
        """Reload whenever the folder changes; runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            current = self._fingerprint()
            if current is None or current == self.loaded_from:
                continue
            old = self.snapshot
            # Loading takes a moment (the matcher builds its index): off the event loop.
            new = await asyncio.to_thread(_load, self.root, old.version + 1, old.engine)
            self.snapshot = new
            # Set after the snapshot, so `loaded_from` never claims a load still running.
            self.loaded_from = current
            if new.refused:
                log.warning("knowledge folder refused: %d problem(s)", len(new.problems))
            else:
                log.info("knowledge folder reloaded")
            for queue in list(self._listeners):
                queue.put_nowait(new.version)

    def listen(self) -> asyncio.Queue[int]:
        queue: asyncio.Queue[int] = asyncio.Queue()
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[int]) -> None:
        self._listeners.discard(queue)
