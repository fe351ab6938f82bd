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

## bench: the reproducible benchmarks (not run by CI); results go to docs/benchmarks.md
bench: $(BIN)/mem
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
