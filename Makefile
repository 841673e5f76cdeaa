# The two set-up commands of the README:
#   make run    create .venv, install, migrate the SQLite database, serve on
#               `listen` of development.ini (localhost:6543)
#   make test   install the test extras, Chromium (if missing) and axe-core,
#               run everything
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo)
PYTEST_ARGS ?=
AXE := node_modules/axe-core/axe.min.js

.PHONY: run test serve migrate install install-test chromium axe lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[testing]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: $(VENV)/.installed
	$(BIN)/alembic -c development.ini upgrade head

# A taken port is one line saying what to do, before anything else runs.
run: $(VENV)/.installed
	@$(BIN)/python -m app.serve --check development.ini
	@$(MAKE) --no-print-directory migrate
	$(BIN)/python -m app.serve development.ini

# Debian's Chromium for the browser tests; Playwright drives it, never downloads one.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

# axe-core (pinned in package-lock.json) for the accessibility tests; Debian's
# npm if the machine has none.
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing Debian npm"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

axe: $(AXE)

lint: $(VENV)/.installed-test
	$(BIN)/lint-imports
	$(BIN)/ruff check app bench tests migrations

# Branch coverage of app/ (settings in pyproject.toml); under the floor fails.
COVERAGE_FLOOR ?= 92

# Four workers on two cores: many tests wait on a subprocess, a socket or
# Chromium, and with two workers the cores sat idle a quarter of the run.
TEST_WORKERS ?= 4

test: $(VENV)/.installed-test chromium $(AXE) lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.signin_timing

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache node_modules
