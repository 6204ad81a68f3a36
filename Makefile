# Everything people run. uv is bootstrapped into .tools/ when it is not on PATH.
SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools
UV ?= $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/bin/uv)
# Pre-compiled bytecode: start-up stays fast even where PYTHONDONTWRITEBYTECODE is set.
export UV_COMPILE_BYTECODE := 1
# Never let uv fetch a Python build; use the machine's Python >= 3.11.
export UV_PYTHON_DOWNLOADS := never
# The store tests also run on this PostgreSQL; they are skipped when it cannot be reached (never in CI).
export SKYGATE_TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: demo test lint format sync bench

$(TOOLS)/bin/uv:
	@echo "uv not found; installing it into $(TOOLS)"
	python3 -m pip install --quiet --disable-pip-version-check --target $(TOOLS) uv \
	  || { python3 -m venv $(TOOLS) && $(TOOLS)/bin/python -m pip install --quiet uv; }

sync: $(UV)
	$(UV) sync --frozen

demo: sync
	$(UV) run --frozen skygate demo

test: sync
	$(UV) run --frozen pytest

lint: sync
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench
	$(UV) run --frozen mypy src bench

format: sync
	$(UV) run --frozen ruff format src tests
	$(UV) run --frozen ruff check --fix src tests

bench: sync
	$(UV) run --frozen python -m bench.run $(ARGS)
