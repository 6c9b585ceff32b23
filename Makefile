# The README's commands. Needs only Python 3.11+ and make: uv is installed into .tools/
# from PyPI on first use, and uv builds .venv from the committed uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
MANIFESTS := uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml) gateway/pyproject.toml \
	services/agreements/pyproject.toml services/placements/pyproject.toml \
	services/supervisors/pyproject.toml

.PHONY: run test lint typecheck pytest stress bench fuzz env clean

run: env ## start NATS, the three services and the gateway (Ctrl-C stops all)
	$(BIN)/python -m vfu_devrun

test: env lint typecheck pytest ## the whole suite: lint, types, every test

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: env
	$(BIN)/mypy libs/vfu_common/src libs/vfu_domain/src libs/vfu_allocation/src libs/vfu_devrun/src \
		libs/vfu_testing/src gateway/src services/agreements/src \
		services/placements/src services/supervisors/src

# pytest-xdist workers: one per core on the 2-core machines the suite is sized for. Each
# worker starts its own NATS servers and migrated templates (ADR 21).
PYTEST_WORKERS ?= 2

# The tests that share a started system run on one worker (tests/conftest.py,
# SYSTEM_GROUPS); every other test is spread over the workers as it comes.
pytest: env
	$(BIN)/pytest -n $(PYTEST_WORKERS) --durations=20 $(PYTEST_ARGS)

# The concurrency and fault tests (marker "stress"), run this many times in a row.
STRESS_RUNS ?= 20

stress: env ## the concurrency and fault tests, 20 runs in a row, on SQLite and PostgreSQL
	@if [ -z "$$VFU_TEST_DATABASE_URL" ]; then \
		echo "stress: set VFU_TEST_DATABASE_URL to a PostgreSQL server, e.g." \
			"VFU_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make stress"; \
		exit 2; fi
	@for run in $$(seq 1 $(STRESS_RUNS)); do \
		echo "stress: run $$run of $(STRESS_RUNS)"; \
		$(BIN)/pytest -m stress -q -p no:cacheprovider $(PYTEST_ARGS) || \
			{ echo "stress: run $$run of $(STRESS_RUNS) failed"; exit 1; }; \
	done; echo "stress: $(STRESS_RUNS) of $(STRESS_RUNS) runs passed"

bench: env ## benchmarks (on demand, not part of test)
	$(BIN)/python bench/gateway_overhead.py
	$(BIN)/python bench/event_latency.py
	$(BIN)/python bench/booking_throughput.py
	$(BIN)/python bench/search_latency.py

# Examples per operation, role and mode (valid/invalid data); CI's pytest run uses 2.
FUZZ_EXAMPLES ?= 50

fuzz: env ## a long schemathesis run against the whole system (on demand, not part of test)
	VFU_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/api/test_schemathesis.py \
		--timeout=0 $(PYTEST_ARGS)

env: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) $(MANIFESTS)
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen
	touch $@

clean: ## remove the environments (not the data directory)
	rm -rf $(VENV) $(TOOLS)
