# The README's two commands: `make app` (install, then serve the explorer on the demo data)
# and `make test` (install everything, lint, run the whole test suite). Both work on a fresh
# machine with Python 3.11+ and pip; `make test` installs Debian's chromium for browser tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# A separate venv runs the real OpenStack Swift server of the storage tests (tests/swift_server.py).
SWIFT_VENV ?= .venv-swift
SWIFT_STAMP := $(SWIFT_VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser swift-venv app test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

install: $(STAMP)

$(SWIFT_STAMP):
	test -x $(SWIFT_VENV)/bin/python || $(PYTHON) -m venv $(SWIFT_VENV)
	$(SWIFT_VENV)/bin/python -m pip install -q "swift==2.38.3" "python-swiftclient==4.11.0"
	touch $@

swift-venv: $(SWIFT_STAMP)

browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

app: install
	$(BIN)/oco2explore app

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install browser swift-venv lint
	$(BIN)/python -m pytest

bench: install
	for b in io scan match pipeline app; do $(BIN)/python benchmarks/bench_$$b.py || exit 1; done

clean:
	rm -rf $(VENV) $(SWIFT_VENV) .pytest_cache .ruff_cache build *.egg-info
