# The two commands a new user needs:  make demo  and  make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE := .memory-example

.PHONY: demo test lint typecheck unit docs bench clean

# A virtual environment with the package installed (editable) and the test tools.
$(BIN)/mem: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## demo: install, then tour the bundled example memory (.memory-example/)
demo: $(BIN)/mem
	@$(BIN)/python bench/demo.py $(EXAMPLE)

## test: install, then lint, type-check and run the whole test suite
test: lint typecheck unit

lint: $(BIN)/mem
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy needs to see the repository as the package `contextree` (setuptools maps it with
# package-dir, which mypy cannot read): a symlink in the venv gives it that view.
typecheck: $(BIN)/mem
	@mkdir -p $(VENV)/typecheck && ln -sfn "$(CURDIR)" $(VENV)/typecheck/contextree
	cd $(VENV)/typecheck && MYPYPATH=. "$(CURDIR)/$(BIN)/mypy" --config-file "$(CURDIR)/pyproject.toml" -p contextree

unit: $(BIN)/mem
	$(BIN)/pytest -n auto -q

## docs: regenerate the command reference (docs/cli.md) and the config defaults (docs/configuration.md)
docs: $(BIN)/mem
	$(BIN)/python -m contextree.cli.reference docs

## bench: every benchmark of docs/benchmarks.md, in order (not run by CI; about 15 minutes,
## most of it building the 100k-entry tree once: it is cached in bench/out/trees/)
bench: $(BIN)/mem
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/locomo.py
	$(BIN)/python bench/escalation.py --fake
	$(BIN)/python bench/watch_latency.py --sizes 1000 10000 --writes 40 --idle 10
	$(BIN)/python bench/mcp_startup.py --runs 20
	$(BIN)/python bench/git_write.py --runs 30
	$(BIN)/python bench/lifecycle.py --entries 10000 --queries 200 --out bench/out/lifecycle.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
