# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run demo test bench lint clean install install-test system-test-deps

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test system-test-deps

# Browser tests and chart exports drive Debian's Chromium; the PDF board pack needs Pango (WeasyPrint);
# install them when missing (needs root, as on CI).
system-test-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null || ! ldconfig -p | grep -q libpangoft2; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing chromium, chromium-driver, poppler-utils and Pango (for WeasyPrint) from Debian..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver poppler-utils libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; \
	  else \
	    echo "chromium, poppler-utils or Pango is missing: install Debian's chromium, chromium-driver, poppler-utils, libpango-1.0-0 and libpangoft2-1.0-0 (browser tests and PDF exports will be skipped)"; \
	  fi; \
	fi

## Build the synthetic demo database and serve the dashboard on http://127.0.0.1:8050 (or the next free port;
## choose one with `make run PORT=8060`)
run: install
	$(BIN)/oba demo $(if $(PORT),--port $(PORT))

## Build the demo database only
demo: install
	$(BIN)/oba demo --no-serve

## Install what the tests need and run them all
test: install-test
	$(BIN)/pytest -q -n auto

## Run the performance benchmarks and print the figures
bench: install-test
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

lint: install-test
	$(BIN)/ruff check etl indicators dashboard tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache artefacts data/oba.sqlite* data/demo/returns data/demo/benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
