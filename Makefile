# Two commands on a fresh machine: `make run` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench flows-check security browser clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Harbour needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/harbour run

lint: install
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy

flows-check: install
	$(BIN)/harbour flows check

# Security checks: ruff's S rules run in lint; here a secret scan of the tracked files and
# pip-audit (which skips with one line when its vulnerability database is out of reach).
security: install
	$(BIN)/python -m tests.security.secret_scan
	$(BIN)/python -m tests.security.dependency_audit

# The browser tests drive Debian's Chromium (never a downloaded browser). Installed here when
# missing and root can; otherwise one line says the browser tests will skip (CI fails them).
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	elif [ "$$CI" = true ]; then echo "browser tests: chromium is missing and cannot be installed here: they will FAIL (CI)"; \
	else echo "browser tests: SKIPPED (chromium is not installed and this is not root: apt-get install chromium)"; fi

test: lint flows-check security browser
	$(BIN)/pytest

bench: install
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) var test-artefacts .pytest_cache .mypy_cache .ruff_cache
