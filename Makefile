# Two commands do everything: `make run` (demo site on 127.0.0.1:8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench-pages system-deps clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# Debian's Chromium for the browser tests, CJK fonts so pages render in Chinese,
# LibreOffice Writer + poppler-utils for the tests that render the DOCX and compare pixels,
# and nginx for the limits tests behind a proxy (tests/limits, bench/limits.py).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
		|| ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
		|| ! command -v nginx >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null \
			&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				libreoffice-writer-nogui poppler-utils nginx >/dev/null; \
		else \
			echo "warning: install Debian's chromium, fonts-noto-cjk, libreoffice-writer-nogui, poppler-utils and nginx to run the browser, render and proxy tests"; \
		fi; \
	fi

run: $(VENV)/.installed
	$(BIN)/fanwen demo

# One test process per CPU; --dist load hands tests out in pytest-django's order (plain tests
# before transactional ones) to each process.
test: $(VENV)/.installed system-deps
	$(BIN)/pytest -n auto --dist load

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench-pages: $(VENV)/.installed
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) var
