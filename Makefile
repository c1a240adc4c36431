# Two commands on a fresh machine: `make run` and `make test`.
# Stamp files make both idempotent: nothing is reinstalled unless its dependency file changed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SYNAPSE_VENV := .venv-synapse

.PHONY: run test lint typecheck check bench score clean workbench-assets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The runtime: engine plus both platform SDKs, so `wegwijzer run` can start any channel.
$(VENV)/.run-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[matrix,teams,figures]'
	touch $@

$(VENV)/.dev-stamp: pyproject.toml $(VENV)/.run-stamp
	$(BIN)/python -m pip install --quiet -e '.[matrix,teams,figures,dev]'
	touch $@

# System packages the tests drive for real: a browser for the web pages, PostgreSQL for
# the shared figures store, redis-server for shared conversation state. Installed only
# when missing; needs root, as on CI and the dev machines.
SYSTEM_PACKAGES := chromium postgresql redis-server
$(VENV)/.system-stamp: Makefile | $(BIN)/python
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing system packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	touch $@

# Synapse lives in its own venv: it is a test peer, not a dependency of the bot.
$(SYNAPSE_VENV)/.stamp: tests/synapse-requirements.txt
	$(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet -r tests/synapse-requirements.txt
	touch $@

# --- workbench (issue 14): Microsoft's Adaptive Cards renderer for `wegwijzer kb serve`,
# installed from npm into the git-ignored workbench/node_modules (never committed). Without
# npm the workbench still runs and shows each Teams card as JSON instead.
WORKBENCH_ASSETS := workbench/node_modules/.stamp
$(WORKBENCH_ASSETS): workbench/package.json workbench/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd workbench && npm ci --no-audit --no-fund --silent && touch node_modules/.stamp; \
	else echo "npm not found: the workbench will show Teams cards as JSON"; fi
workbench-assets: $(WORKBENCH_ASSETS)
# --- end workbench

run: $(VENV)/.run-stamp
	$(BIN)/wegwijzer run

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-stamp
	$(BIN)/mypy

test: $(VENV)/.dev-stamp $(VENV)/.system-stamp $(SYNAPSE_VENV)/.stamp $(WORKBENCH_ASSETS) lint typecheck
	$(BIN)/wegwijzer kb validate
	WEGWIJZER_SYNAPSE_PYTHON=$(CURDIR)/$(SYNAPSE_VENV)/bin/python $(BIN)/python -m pytest

score: $(VENV)/.run-stamp
	$(BIN)/python ../shared/eval/score.py --cmd "$(BIN)/wegwijzer ask --json" ../shared/eval/dev.yaml --show-failures

bench: $(VENV)/.dev-stamp $(VENV)/.system-stamp $(SYNAPSE_VENV)/.stamp
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/crisis_cv.py
	$(BIN)/python bench/crisis_heldout.py knowledge/crisis_heldout/*.yaml
	$(BIN)/python bench/matrix_roundtrip.py
	$(BIN)/python bench/teams_load.py
	$(BIN)/python bench/web_load.py
	$(BIN)/python bench/replicas.py

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .mypy_cache .pytest_cache .ruff_cache
