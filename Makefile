# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/hoibot: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/hoibot

.PHONY: install run test lint bench-quick
install: $(BIN)/hoibot

# Migrates the database, seeds the demo province if it is empty, then runs every channel that
# has a token (Telegram, Zalo) or, with none, a terminal chat as a demo branch leader.
run: install
	$(BIN)/hoibot run

# Whole suite on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# The benchmarks' quick modes, so they keep working (figures: bench/README.md). Needs the
# local PostgreSQL and Redis, like the PostgreSQL half of the tests.
bench-quick: install
	$(BIN)/python -m bench.rollups --quick
	$(BIN)/python -m bench.rollups --quick --db sqlite
	$(BIN)/python -m bench.fanout --quick
	$(BIN)/python -m bench.inbound --quick
	$(BIN)/python -m bench.plain_answer --quick --db sqlite
	$(BIN)/python -m bench.memory --quick
	$(BIN)/python -m bench.pages --quick
	$(BIN)/python -m bench.document --quick
	$(BIN)/python -m bench.weekly --quick
