# Every target creates the virtualenv and prepares the toolchain it needs: on a new machine,
# `make run` and `make test` are the only commands to type.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
# Twice the cores: a scenario's apply and destroy wait on the provider's fixed sleeps (an ALB's 30 s before its
# first poll...) as much as they compute, so a third and fourth worker fill the waits (figures in
# docs/benchmarks.md). LocalStack and a sandbox account are one server or account shared by all workers:
# test-localstack and nightly use TARGET_WORKERS.
WORKERS ?= $(shell echo $$(( 2 * $$(nproc 2>/dev/null || echo 1) )))
TARGET_WORKERS ?= 2
PYTEST_ARGS ?=
# Sharding (pytest-split): `make test SHARDS=2 SHARD=1` runs the first of two groups balanced on
# .test_durations (`make durations` refreshes it), with its own results folder, JUnit XML and report;
# `make merge-shards` joins the shards' folders into $(SHARDS_DIR)/merged.
SHARDS     ?=
SHARD      ?= 1
SHARDS_DIR ?= results/shards
SHARD_DIR  ?= $(SHARDS_DIR)/shard-$(SHARD)
ifneq ($(SHARDS),)
SHARD_ENV  := HARNESS_RESULTS_DIR=$(SHARD_DIR)
SHARD_ARGS := --splits $(SHARDS) --group $(SHARD) --durations-path .test_durations \
	--junitxml=$(SHARD_DIR)/junit.xml --tf-report=$(SHARD_DIR)/report.md
endif

# Python's bytecode cache is part of a warm cache: with PYTHONDONTWRITEBYTECODE set (some shells and sandboxes
# set it) every process the suite starts compiled the harness again and every pytest session rewrote and
# compiled the test modules again (most of a worker's collection time; docs/benchmarks.md). The recipes write
# __pycache__/ (ignored by git) as Python does by default.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint bench toolchain nightly clean example durations merge-shards
NIGHTLY_DIR ?= results/nightly

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## toolchain: find Terraform (or use the bundled one) and build the offline provider mirror
toolchain: $(BIN)/.installed
	$(BIN)/fargate-harness toolchain

## run: apply every scenario on the embedded emulator, check, destroy, print the summary
run: toolchain
	$(BIN)/fargate-harness run

## test: the whole suite (unit + every scenario on the selected target), $(WORKERS) xdist workers (2 per core)
test: toolchain
	$(if $(SHARDS),mkdir -p $(SHARD_DIR))
	$(SHARD_ENV) $(BIN)/python -m pytest -n $(WORKERS) --dist loadscope $(SHARD_ARGS) $(PYTEST_ARGS)

## durations: run the whole suite once and store each test's seconds in .test_durations (what the shards balance on)
durations: toolchain
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope --store-durations --durations-path .test_durations $(PYTEST_ARGS)

## merge-shards: one JUnit XML, one report and every run summary from the shards' results folders
merge-shards: $(BIN)/.installed
	$(BIN)/python -m fargate_harness.report merge $(SHARDS_DIR)/merged $(filter-out $(SHARDS_DIR)/merged,$(wildcard $(SHARDS_DIR)/shard-*))

## lint: ruff, mypy and terraform fmt
lint: toolchain
	$(BIN)/ruff check src tests tools scenarios
	$(BIN)/ruff format --check src tests tools scenarios
	$(BIN)/mypy
	$(BIN)/mypy scenarios/reference_checks.py
	TF_CLI_CONFIG_FILE=/dev/null $$($(BIN)/fargate-harness toolchain --terraform-path) fmt -check -recursive modules scenarios

## bench: harness vs bare Terraform per scenario, and suite wall time with 1, 2 and $(WORKERS) workers
bench: toolchain
	$(BIN)/python -m tools.bench --workers $(WORKERS)

## nightly: the scenario suite on --target aws (sandbox account), JUnit XML + Markdown report + final sweep.
## Needs AWS credentials and HARNESS_ALLOWED_ACCOUNTS; fails fast with a message when either is missing.
nightly: toolchain
	$(BIN)/fargate-harness check-target --target aws
	mkdir -p $(NIGHTLY_DIR)
	export HARNESS_RUN_ID=nightly-$$(date -u +%Y%m%dT%H%M%S); status=0; \
	$(BIN)/python -m pytest -n $(TARGET_WORKERS) --dist loadscope --target aws tests/scenarios \
		--junitxml=$(NIGHTLY_DIR)/junit.xml --tf-report=$(NIGHTLY_DIR)/report.md $(PYTEST_ARGS) || status=$$?; \
	$(BIN)/fargate-harness sweep --target aws --run-id $$HARNESS_RUN_ID --report $(NIGHTLY_DIR)/report.md \
		|| status=$$((status ? status : 1)); \
	exit $$status

clean:
	rm -rf $(VENV) results .mypy_cache .ruff_cache .pytest_cache

## test-localstack: the scenario suite on a real LocalStack 4.14.0, installed into its own venv under
## $HARNESS_CACHE_DIR (Python 3.13 from pyenv; reused on the next run), started on a free loopback port
## for the run and stopped after it. Scenarios needing a service it lacks are skipped with the list.
.PHONY: test-localstack
test-localstack: toolchain
	$(BIN)/python -m tools.localstack_runtime run -- \
		$(BIN)/python -m pytest tests/scenarios --target localstack -n $(TARGET_WORKERS) --dist loadscope $(PYTEST_ARGS)

## example: the example user repository (examples/platform-team) against the harness installed from its wheel:
## build the wheel, install it into a fresh virtualenv outside this repository, copy the example next to it
## and run its tests there (what `pip install fargate-harness` in someone else's repository gives).
EXAMPLE_DIR ?= $(or $(TMPDIR),/tmp)/fargate-harness-example
example: toolchain
	rm -rf $(EXAMPLE_DIR) && mkdir -p $(EXAMPLE_DIR)/dist
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir $(EXAMPLE_DIR)/dist .
	$(PYTHON) -m venv $(EXAMPLE_DIR)/venv
	$(EXAMPLE_DIR)/venv/bin/pip install --quiet $(EXAMPLE_DIR)/dist/fargate_harness-*.whl
	cp -r examples/platform-team $(EXAMPLE_DIR)/repo
	cd $(EXAMPLE_DIR) && venv/bin/python -c "import importlib.util as u, fargate_harness as f; \
		assert u.find_spec('harness') is None and u.find_spec('tools') is None, 'the wheel must hold fargate_harness only'; \
		print('fargate_harness', f.__version__, len(f.__all__), 'public names')"
	$(EXAMPLE_DIR)/venv/bin/pip install --quiet mypy
	cd $(EXAMPLE_DIR)/repo && ../venv/bin/mypy --strict tests
	cd $(EXAMPLE_DIR)/repo && env -u HARNESS_SCENARIOS_DIR -u HARNESS_RESULTS_DIR ../venv/bin/fargate-harness test --dir infra/services/catalog
	cd $(EXAMPLE_DIR)/repo && env -u HARNESS_SCENARIOS_DIR -u HARNESS_RESULTS_DIR ../venv/bin/python -m pytest -p no:cacheprovider

## soak: SIGKILL runs of the CLI and of pytest -n 2 at seeded, printed random points (every reference scenario,
## cross-account-ecr's two providers included, and an ALB + EFS configuration), then Ctrl-C twice under -n 2 and an
## apply past its --tf-timeout; `fargate-harness sweep --results-dir` after each, then count what moto still holds,
## the files holding the planted secret and the processes left under the results folder. Once on one shared
## emulator, once with each run on its own. 2 x SOAK_KILLS kills; ends with "soak summary: ..." twice; exit 1 when
## anything is left. Not part of `make test`.
SOAK_KILLS ?= 25
SOAK_SEED  ?= 7
.PHONY: soak
soak: toolchain
	$(BIN)/python -m tools.soak --kills $(SOAK_KILLS) --seed $(SOAK_SEED)
	$(BIN)/python -m tools.soak --own-emulator --kills $(SOAK_KILLS) --seed $(SOAK_SEED)
