# Two commands on a fresh machine: `make run` and `make test`.
# Stamp files make both idempotent: nothing is reinstalled unless its dependency file changed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SYNAPSE_VENV := .venv-synapse

.PHONY: run test lint typecheck check bench score clean redis-server

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The runtime: engine plus both platform SDKs, so `wegwijzer run` can start any channel.
$(VENV)/.run-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[matrix,teams]'
	touch $@

$(VENV)/.dev-stamp: pyproject.toml $(VENV)/.run-stamp
	$(BIN)/python -m pip install --quiet -e '.[matrix,teams,dev]'
	touch $@

# Synapse lives in its own venv: it is a test peer, not a dependency of the bot.
$(SYNAPSE_VENV)/.stamp: tests/synapse-requirements.txt
	$(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet -r tests/synapse-requirements.txt
	touch $@

# A real redis-server for the replica tests and bench (issue 16): the system package.
redis-server:
	@command -v redis-server >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)

run: $(VENV)/.run-stamp
	$(BIN)/wegwijzer run

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-stamp
	$(BIN)/mypy

test: $(VENV)/.dev-stamp $(SYNAPSE_VENV)/.stamp redis-server lint typecheck
	$(BIN)/wegwijzer kb validate
	WEGWIJZER_SYNAPSE_PYTHON=$(CURDIR)/$(SYNAPSE_VENV)/bin/python $(BIN)/python -m pytest

score: $(VENV)/.run-stamp
	$(BIN)/python ../shared/eval/score.py --cmd "$(BIN)/wegwijzer ask --json" ../shared/eval/dev.yaml --show-failures

bench: $(VENV)/.dev-stamp $(SYNAPSE_VENV)/.stamp redis-server
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/crisis_cv.py
	$(BIN)/python bench/matrix_roundtrip.py
	$(BIN)/python bench/teams_load.py
	$(BIN)/python bench/replicas.py

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .mypy_cache .pytest_cache .ruff_cache
