# Two commands do everything: `make run` (demo site on 127.0.0.1:8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench-pages system-deps clean stack stack-stop

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
		|| ! command -v nginx >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1 \
		|| [ ! -e /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null \
			&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				libreoffice-writer-nogui poppler-utils nginx libnginx-mod-http-brotli-filter \
				libnginx-mod-http-brotli-static wrk >/dev/null; \
		else \
			echo "warning: install Debian's chromium, fonts-noto-cjk, libreoffice-writer-nogui, poppler-utils, nginx (with libnginx-mod-http-brotli-*) and wrk to run the browser, render and proxy tests and the stack"; \
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

# A production-shaped stack on this machine: nginx :8080 -> two app nodes -> PostgreSQL
# (database fanwen_stack) + Redis (db 3), and a worker, with the demo content (deploy/stack.py).
stack: $(VENV)/.installed system-deps
	$(BIN)/python deploy/stack.py start

stack-stop:
	$(BIN)/python deploy/stack.py stop
