# Two commands matter: `make run` (gateway on the embedded database, with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck schema clean lock client

LOCK := .ci/requirements.lock

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[dev,embedded,motor]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/gateway serve

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Pin what the venv now holds (after a change to pyproject.toml: `make lock`, run the suite, commit both).
lock: $(STAMP)
	{ head -n 2 $(LOCK); $(PY) -m pip freeze --exclude-editable; } > $(LOCK).new && mv $(LOCK).new $(LOCK)

# A typed Python client of the API (docs/api-guide.md), from schema.graphql and tests/codegen/operations. ariadne-codegen
# pins graphql-core < 3.3 (the gateway needs 3.3), so it has a venv of its own, pinned by .ci/codegen.lock.
client:
	test -x $(VENV)/codegen/bin/ariadne-codegen || { $(PYTHON) -m venv $(VENV)/codegen && \
		$(VENV)/codegen/bin/pip install --quiet -c .ci/codegen.lock ariadne-codegen; }
	mkdir -p build/codegen
	$(VENV)/codegen/bin/ariadne-codegen client --config tests/codegen/ariadne-codegen.toml

schema: $(STAMP)
	$(VENV)/bin/gateway schema > schema.graphql

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
