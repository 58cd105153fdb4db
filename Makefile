# Every target creates the virtualenv and prepares the toolchain it needs: on a new machine,
# `make run` and `make test` are the only commands to type.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: run test lint bench toolchain clean

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

## test: the whole suite (unit + every scenario on the selected target), 2 xdist workers
test: toolchain
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope $(PYTEST_ARGS)

## lint: ruff, mypy and terraform fmt
lint: toolchain
	$(BIN)/ruff check harness tests
	$(BIN)/ruff format --check harness tests
	$(BIN)/mypy
	TF_CLI_CONFIG_FILE=/dev/null $$($(BIN)/fargate-harness toolchain --terraform-path) fmt -check -recursive modules scenarios

## bench: harness vs bare Terraform per scenario, and suite wall time with 1 and 2 workers
bench: toolchain
	$(BIN)/python -m harness.bench

clean:
	rm -rf $(VENV) results .mypy_cache .ruff_cache .pytest_cache
