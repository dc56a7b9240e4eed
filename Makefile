# The two commands: `make demo` (install + run the main job on the demo data) and
# `make test` (install + run the tests). Both create .venv with Python 3.11 on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-dev lint baseline clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/er demo --out demo

test: install-dev
	$(BIN)/python -m pytest

# lint and types also run inside `make test` (tests/test_lint.py)
lint: install-dev
	$(BIN)/ruff check resolution training tests benchmarks
	$(BIN)/mypy resolution training | $(BIN)/mypy-baseline filter

# after fixing type errors: drop them from mypy-baseline.txt
baseline: install-dev
	$(BIN)/mypy resolution training | $(BIN)/mypy-baseline sync

clean:
	rm -rf $(VENV) demo mlflow.db mlruns .pytest_cache
