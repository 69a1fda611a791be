# shegong: `make up` starts the suite on the embedded default, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

.PHONY: up down status demo vendor browser screenshots test test-property fuzz lint format install lock openapi bench bench-payroll clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# The TypeScript client generator the contract tests use (pinned in clients/package-lock.json).
clients/node_modules/.installed: clients/package.json clients/package-lock.json
	npm ci --prefix clients --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.installed

# SHEGONG_REPLICAS=2 make up: two replicas of every service (the second 10 ports up); the gateway balances.
up: install
	$(BIN)/python -m deploy.local up

down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m deploy.local down; else echo "nothing to stop"; fi

# Demo data through the API (after make up): a Taizhou district with communities, workers, posts.
demo: install
	$(BIN)/python -m deploy.local.demo

status: install
	$(BIN)/python -m deploy.local status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Headless Chromium for the console's browser tests (tests/browser): Debian's chromium and chromedriver,
# and a Chinese font for the screenshots, installed when chromedriver is missing and we are root (CI
# containers); otherwise say what to install.
browser:
	@if command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
			fonts-wqy-microhei >/dev/null; \
	else echo "tests/browser need chromium and chromedriver (Debian: apt-get install chromium chromium-driver fonts-wqy-microhei)" >&2; exit 1; fi

test: lint clients/node_modules/.installed browser
	$(BIN)/pytest

# The console's screenshots in docs/img (docs/console.md), taken by its browser tests.
screenshots: install browser
	SHEGONG_CONSOLE_SCREENSHOTS=1 $(BIN)/pytest tests/browser

# The payroll properties (a worker-month and a C5 bonus paid once, exactly the policy amount) with many more
# examples than `make test`.
test-property: install
	SHEGONG_PAYROLL_PROPERTY_PROFILE=payroll-long $(BIN)/pytest services/compensation/tests/test_payroll_property.py \
		services/compensation/tests/test_bonus_paid_once_property.py

# The contract fuzzing of `make test` (tests/fuzz) with many more examples per operation (about 15 minutes).
fuzz: install
	SHEGONG_FUZZ_PROFILE=long $(BIN)/pytest tests/fuzz

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-resolve the pinned dependencies after editing pyproject.toml: the services' own (images) and
# everything a developer and CI need (the embedded default, tests, linters).
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --all-extras --generate-hashes pyproject.toml -o requirements-dev.lock

# Rewrite each service's committed OpenAPI contract and the rule index (docs/rule-index.md) from the code.
openapi: install
	$(BIN)/python -m shared.openapi_contract write
	$(BIN)/python -m shared.rule_index write
	$(BIN)/python -m shared.contracts write

# Every hot path beside its floor, measured in the same run on the same data (benchmarks/README.md).
# Small sizes by default (a minute or two); `make bench ARGS=--full` for the sizes of issue #16.
bench: install
	$(BIN)/python -m benchmarks $(ARGS)

bench-payroll: install
	$(BIN)/python -m benchmarks --only payroll $(ARGS)

clean: down
	rm -rf $(VENV) .data .mypy_cache .ruff_cache .pytest_cache clients/node_modules

# Refresh the committed browser assets (shared/static/vendor: Swagger UI, Redoc, htmx, ECharts) from the
# versions clients/package.json pins; `make up` never needs npm.
vendor: clients/node_modules/.installed install
	$(BIN)/python -m shared.vendor_assets write
