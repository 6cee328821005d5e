# exocli: `make demo` and `make test` are all a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help install compile demo test lint bench clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Bytecode for the editable sources, also where PYTHONDONTWRITEBYTECODE is set: without it
# every command would compile exocli again before running.
compile: $(STAMP)
	@$(BIN)/python -m compileall -q src

install: $(STAMP) ## Create .venv and install exocli with the dev extra

demo: compile ## Run the flagship query on the shipped evidence
	$(BIN)/exocli query "anti-inflammatory miRNAs from UCMSC"

test: $(STAMP) ## Lint (ruff) and run the test suite (pytest)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: compile ## Performance figures (see BENCHMARKS.md)
	$(BIN)/python bench/run.py

clean: ## Remove the venv, caches and the built database
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis db/*.sqlite db/*.sqlite-*
