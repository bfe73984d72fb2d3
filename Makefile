# make run    : the service on SQLite with a paper account (creates .venv on first use)
# make test   : the whole test suite, PostgreSQL and browser tests included
# make bench  : benchmarks, printed as a table
# make lint   : ruff and mypy --strict

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEPS   := pyproject.toml

.PHONY: run test bench lint typecheck clean e2e-deps

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) $(DEPS)
	$(PY) -m pip install --quiet -e '.[dev,demo]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m riskdesk.demo

e2e-deps:
	bash scripts/install-browser.sh

test: $(STAMP) e2e-deps
	bash scripts/ensure-postgres.sh
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m benchmarks.runner $(SUITES)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
