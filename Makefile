# Two commands for a fresh clone:  make run   and   make test
# Python 3.11 (pyproject pins it): python3.11 if present, else python3 (checked below).
PY ?= $(shell command -v python3.11 2>/dev/null || echo python3)
PORT ?= 8000
# make bench SCALE_INSTITUTIONS=1000 SCALE_CASES=1000000 for the full scale run
SCALE_INSTITUTIONS ?= 100
SCALE_CASES ?= 100000
# extra bench/scale.py options, e.g. SCALE_ARGS='--keep-db clintech_scale_1k --jobs separate'
SCALE_ARGS ?=
SUITE_ARGS ?=
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test test-sqlite test-pg bench bench-suite mutation lint migration clean

$(BIN)/.installed: pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "需要 Python 3.11（当前 " + sys.version.split()[0] + "）：make PY=/path/to/python3.11 …")'
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

web/static/vendor/htmx.min.js: scripts/fetch_htmx.sh
	scripts/fetch_htmx.sh

setup: $(BIN)/.installed web/static/vendor/htmx.min.js
	scripts/system_deps.sh

## Set everything up, load the demo deployment (SQLite in var/), print the logins and serve.
run: setup
	$(BIN)/clintech demo
	$(BIN)/clintech serve --port $(PORT)

## Set everything up and run the whole suite on SQLite, then on PostgreSQL.
test: setup
	scripts/system_deps.sh --test
	scripts/test.sh

## The logged-in dashboard against a plain Litestar + Jinja page (wrk; SQLite and PostgreSQL).
bench: setup
	scripts/system_deps.sh --bench
	$(BIN)/python bench/run.py
	$(BIN)/python bench/scale.py --institutions $(SCALE_INSTITUTIONS) --cases $(SCALE_CASES) $(SCALE_ARGS)

## make test of this tree against make test of issue 9's baseline commit, in one run (about
## 17 to 37 minutes a round; SUITE_ARGS='--rounds 2' alternates the order). Not part of make bench.
bench-suite: setup
	scripts/system_deps.sh --test
	$(BIN)/python bench/suite.py $(SUITE_ARGS)

## Mutation testing (mutmut) of core/calendar.py and every rules module against their pure
## tests; prints a table per module (reports, does not assert; not part of make test).
mutation: setup
	$(BIN)/python scripts/mutation.py

lint: setup
	$(BIN)/ruff check .

## New auto migration for changed tables (piccolo generates them against PostgreSQL).
migration: setup
	scripts/new_migration.sh "$(DESC)"

clean:
	rm -rf $(VENV) web/static/vendor
