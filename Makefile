# Two commands do everything on a fresh machine:
#   make run    create .venv, install Lifeline, run the bot (console + embedded Redis with no tokens)
#   make test   create .venv, install Lifeline with its test tools, run lint, types and the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint imports types check-runbooks pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# setuptools' editable install ends with a boxed "Please be careful with folders in your
	@# working directory with the same name as your package": here those folders are the package.
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

test: $(STAMP) lint imports types check-runbooks pytest

lint: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/ruff format --check bot handlers tests bench

imports: $(STAMP)
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy

check-runbooks: $(STAMP)
	$(BIN)/python -m bot runbooks check runbooks

pytest: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench.log_query

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
