# The two commands a new user needs:  make demo  and  make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE := .memory-example

.PHONY: demo test lint typecheck unit base-install docs bench lock clean

# Installs come from the locks in requirements/ (exact versions with hashes), never from the
# ranges in pyproject.toml: a fresh clone installs exactly what was tested (docs/development.md).
#   demo.lock   what `mem` needs (no model features, no test tools)
#   test.lock   demo + the llm extra + the test tools
#   bench.lock  test + the benchmark tools
LOCKS := requirements/demo.lock requirements/test.lock requirements/bench.lock

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

# One stamp per lock: `make test` after `make demo` adds what the tests need, and an edited
# lock reinstalls. --no-deps: the lock is the whole closure (`pip check` proves it);
# --no-build-isolation: the build backend comes from the lock too.
$(VENV)/.installed-%: requirements/%.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $<
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

## demo: install, then tour the bundled example memory (.memory-example/)
demo: $(VENV)/.installed-demo
	@$(BIN)/python bench/demo.py $(EXAMPLE)

## test: install, then lint, type-check, run the whole test suite, and check a base install
test: lint typecheck unit base-install

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy needs to see the repository as the package `contextree` (setuptools maps it with
# package-dir, which mypy cannot read): a symlink in the venv gives it that view.
typecheck: $(VENV)/.installed-test
	@mkdir -p $(VENV)/typecheck && ln -sfn "$(CURDIR)" $(VENV)/typecheck/contextree
	cd $(VENV)/typecheck && MYPYPATH=. "$(CURDIR)/$(BIN)/mypy" --config-file "$(CURDIR)/pyproject.toml" -p contextree

unit: $(VENV)/.installed-test
	$(BIN)/pytest -n auto -q

# What `pip install .` without extras gives (no litellm; every command but the model ones):
# a second venv from the demo lock with a non-editable install, checked by a plain script.
BASE := $(VENV)/base
base-install: $(VENV)/.installed-test
	rm -rf $(BASE)
	$(PYTHON) -m venv $(BASE)
	$(BASE)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/demo.lock
	$(BASE)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation .
	$(BASE)/bin/python tests/base_install_check.py

## docs: regenerate the command reference (docs/cli.md), the config defaults (docs/configuration.md)
## and the lean path's copy of the command-line spec (cli/lean_spec.py)
docs: $(VENV)/.installed-test
	$(BIN)/python -m contextree.cli.reference docs

## bench: every benchmark of docs/benchmarks.md, in order (not run by CI; about 15 minutes,
## most of it building the 100k-entry tree once: it is cached in bench/out/trees/)
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/floor.py
	$(BIN)/python bench/locomo.py
	$(BIN)/python bench/escalation.py --fake
	$(BIN)/python bench/watch_latency.py --sizes 1000 10000 --writes 40 --idle 10
	$(BIN)/python bench/mcp_startup.py --runs 20
	$(BIN)/python bench/git_write.py --runs 30
	$(BIN)/python bench/lifecycle.py --entries 10000 --queries 200 --out bench/out/lifecycle.json
	$(BIN)/python bench/hooks.py --sizes 1000 10000 --runs 20

## lock: re-resolve every lock from pyproject.toml's ranges to today's newest versions (then
## run `make test` and commit requirements/ if it passes; docs/development.md)
# uv resolves (in its own small venv, so the project's stays exactly the lock); pip installs.
UV_VERSION := 0.13.9
UV := $(VENV)/lock-tools/bin/uv
lock:
	$(PYTHON) -m venv $(VENV)/lock-tools
	$(VENV)/lock-tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes --upgrade \
		--extra llm --extra test --extra bench pyproject.toml requirements/build.in -o requirements/bench.lock
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--extra llm --extra test -c requirements/bench.lock pyproject.toml requirements/build.in -o requirements/test.lock
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		-c requirements/test.lock pyproject.toml requirements/build.in -o requirements/demo.lock
	rm -f $(VENV)/.installed-*

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
