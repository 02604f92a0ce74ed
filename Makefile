# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
VENDOR := src/evhub/web/static/vendor
WEB_STAMP := $(VENDOR)/.installed-stamp

.PHONY: install python-deps browser web-assets demo serve test lint typecheck test-suite bench-ocpp bench-planning clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# The console's front-end libraries: pinned in package-lock.json, copied into $(VENDOR).
$(WEB_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent vendor
	touch $(WEB_STAMP)

web-assets: $(WEB_STAMP)

python-deps: $(STAMP)

install: $(STAMP) $(WEB_STAMP)

demo: install  ## migrate the SQLite database under ./var and run the demo hub
	$(BIN)/evhub db upgrade
	$(BIN)/evhub demo

serve: install
	$(BIN)/evhub serve

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

# The browser tests drive Debian's Chromium: installed here when the user may, else the command.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "The browser tests need Debian's Chromium: sudo apt-get install -y chromium" >&2; \
	    exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Tests wait on sockets, servers and Chromium much of the time: two workers (pytest-xdist)
# keep both cores busy. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2

test-suite: install browser  ## the tests alone (set EVHUB_TEST_DATABASE_URL for PostgreSQL)
	$(BIN)/pytest -q -n $(TEST_WORKERS)

test: lint typecheck test-suite  ## lint, types and the whole suite (SQLite)

bench-ocpp: install
	$(BIN)/python benchmarks/ocpp_load.py --stations 1000 --duration 30

bench-planning: install
	$(BIN)/evhub bench planning --sessions ../shared/data/acn/caltech_2019-05-01_2019-08-31.csv.gz --capacity-kw 50 --json

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache node_modules $(VENDOR)
