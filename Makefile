# Two commands: `make demo` (packets for the bundled sample city) and `make test`.
# `make test-fast`: only the tests not marked slow (no real notebooks, kernels, browser, dask).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install clean bench bench-scale

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/stat-lib demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# one worker per core (pytest-xdist); a module's tests stay on one worker, so its module-scoped
# fixtures are built once
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -n auto --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/batch.py
	$(BIN)/python bench/scale.py --per-year 300000 --small-departments 0 --baseline-months 2 --no-naive

# the big city's full run (6M rows, 30 + 10 departments, the naive loop): ~15-20 min when quiet
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

# the source store only: data/records.duckdb (what people enter) is never removed
clean:
	rm -rf outputs data/stat.duckdb data/stat.duckdb.wal data/cache
