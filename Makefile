# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make demo   — offline end-to-end run against the bundled pages on loopback
#   make test   — ruff, mypy and pytest, exactly what CI runs
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	# The machine's pip (23.2) fails to resolve some extras: upgrade it inside the venv first.
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo's own exit code is verify's (docs/contract.md: 1 = broken links found, as the seed has).
# make turns any failing recipe into 2, which would read as "bad input", so 0 and 1 both count
# as "the job ran" here; 2 and 3 still fail. `python -m archiver.demo` exits with verify's code.
demo: $(STAMP)
	@$(BIN)/python -m archiver.demo; code=$$?; [ $$code -le 1 ] || exit $$code

lint: $(STAMP)
	$(BIN)/ruff check archiver tests bench
	$(BIN)/ruff format --check archiver tests bench
	$(BIN)/mypy

# Where the system allows it, the tests run in a network namespace of their own with only
# loopback up: a test that tried to reach the internet fails instead of sending traffic out.
ISOLATE := $(shell unshare -rn sh -c 'ip link set lo up' >/dev/null 2>&1 && echo yes)

test: lint
ifeq ($(ISOLATE),yes)
	unshare -rn sh -c 'ip link set lo up && exec "$$0" "$$@"' $(BIN)/pytest
else
	@echo "no network namespace here (unshare -rn): the tests run with the machine's network"
	$(BIN)/pytest
endif

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]' && $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache db/archive.db*
