# make demo         — from a fresh clone to a running demo site (http://127.0.0.1:5000)
# make test         — lint and format check, layer contracts, type check (mypy) and the test suite
# make translations — extract the messages, update every catalogue, compile them
#
# Needs Python 3.11+ as `python3` (or PYTHON=/path/to/python3.11) and PyPI.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: pip runs again only when pyproject.toml is newer.
STAMP := $(VENV)/.installed
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-x tests/learning"`.
PYTEST_ARGS ?=
# The suite runs in one process per core (pytest-xdist; docs/decisions/0024-tests-in-parallel.md);
# `make test PYTEST_PARALLEL=` runs it in one process.
PYTEST_PARALLEL ?= -n auto --dist worksteal
# Extra `vle demo` arguments, e.g. `make demo DEMO_ARGS="--port 8000"` or "--no-serve".
DEMO_ARGS ?=

.PHONY: demo test translations

demo: $(STAMP)
	$(BIN)/vle demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/bandit -q -r vle -c pyproject.toml
	$(BIN)/pytest -q $(PYTEST_PARALLEL) $(PYTEST_ARGS)

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o vle/translations/messages.pot .
	$(BIN)/pybabel update -i vle/translations/messages.pot -d vle/translations
	$(BIN)/pybabel compile -d vle/translations
	$(BIN)/pybabel compile -D wtforms -d vle/translations  # WTForms' own messages (lt)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "vle needs Python 3.11 or newer; run: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test]'
	touch $(STAMP)
