# Two entry points for people: `make demo` and `make test`. Both build .venv from pyproject on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell $(PY) -c "import hashlib;print(hashlib.sha1(open('pyproject.toml','rb').read()).hexdigest()[:12])")
# A stamp per pyproject content: editing dependencies reinstalls on the next run.
APP_STAMP := $(VENV)/.app-$(HASH)
TEST_STAMP := $(VENV)/.test-$(HASH)

.PHONY: demo test lint bench bench-moderator bench-moderator-5x bench-moderator-sqs fuzz clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(APP_STAMP)

demo: $(APP_STAMP)
	$(BIN)/lobby demo

lint: $(TEST_STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check lobby tests
	$(BIN)/mypy

test: $(TEST_STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check lobby tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(TEST_STAMP)
	$(BIN)/python -m pytest tests/bench -p no:xdist -s -q --ignore=tests/bench/test_bench_moderator.py \
		--ignore=tests/bench/test_bench_moderator_5x.py

# The moderator's scale run (10,000 tickets, 1,000 events/s for 60 s, twice): minutes, so apart.
bench-moderator: $(TEST_STAMP)
	$(BIN)/python -m pytest tests/bench/test_bench_moderator.py -p no:xdist -s -q

# TeamBattles fuzzing from the whole published document, bigger than in `make test` and random:
# prints cases, 5xx, schema failures, undocumented statuses and codes outside ApiErrorCode.
# LOBBY_FUZZ_TB_EXAMPLES cases per route and mode; LOBBY_FUZZ_SEED=<printed seed> replays a run.
LOBBY_FUZZ_TB_EXAMPLES ?= 100
LOBBY_FUZZ_SEED ?= $(shell $(PY) -c "import random;print(random.randrange(2**32))")
fuzz: $(TEST_STAMP)
	LOBBY_FUZZ_TB_EXAMPLES=$(LOBBY_FUZZ_TB_EXAMPLES) LOBBY_FUZZ_SEED=$(LOBBY_FUZZ_SEED) \
		$(BIN)/python -m pytest tests/emulator/test_fuzz_teambattles.py -p no:xdist -s -q

# Five times that (50,000 tickets, 5,000 events/s for 60 s across five feeds of five regions), with
# the plain-DataTable baseline in the same run: several minutes, so apart too.
bench-moderator-5x: $(TEST_STAMP)
	$(BIN)/python -m pytest tests/bench/test_bench_moderator_5x.py -p no:xdist -s -q

# The SQS path: one moderator reading and applying from moto's server against a bare boto3
# receive-and-delete loop on the same queue (also part of `make bench`).
bench-moderator-sqs: $(TEST_STAMP)
	$(BIN)/python -m pytest tests/bench/test_bench_moderator_sqs.py -p no:xdist -s -q

clean:
	rm -rf $(VENV) build dist *.egg-info
