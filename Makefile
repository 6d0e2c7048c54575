# The two quickstart commands are `make demo` and `make test`; both set up .venv first.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup setup-dev demo run build serve test check lint format clean

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh dev

## demo: set up, benchmark the embedded default suite into data/, build site/
demo: setup
	$(BIN)/scaleboard run
	$(BIN)/scaleboard build
	@echo "site built in site/ — preview it with: $(BIN)/scaleboard serve"

build:
	$(BIN)/scaleboard build

serve:
	$(BIN)/scaleboard serve

## test: set up, then every check: lint, format, tests
test: setup-dev check

# The tests run in up to 4 processes (pytest-xdist), a test file per process: its fixtures
# (a built site, a wheel, a Ray cluster) are made once. PYTEST_ARGS='-n 0' runs them in one.
PYTEST_ARGS ?= -n auto --maxprocesses 4 --dist loadfile
check: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	scripts/typecheck.sh

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf site .pytest_cache
