"""Shared fixtures: a small, stable test knowledge base and an engine on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import Engine, load_knowledge_base

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"
TEST_ENTRIES = Path(__file__).resolve().parent / "data" / "entries.yaml"


def make_test_kb(dest: Path) -> Path:
    """The bundled knowledge folder with its entries replaced by the small test set."""
    root = dest / "knowledge"
    shutil.copytree(KNOWLEDGE, root, ignore=shutil.ignore_patterns("entries", "*.md"))
    (root / "entries").mkdir()
    shutil.copy(TEST_ENTRIES, root / "entries" / "test.yaml")
    return root


@pytest.fixture
def test_kb_dir(tmp_path: Path) -> Path:
    return make_test_kb(tmp_path)


@pytest.fixture
def engine(test_kb_dir: Path) -> Engine:
    return Engine(load_knowledge_base(test_kb_dir))
