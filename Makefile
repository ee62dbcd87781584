# The two commands of the README: `make run` (the local stack) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run up test setup lint format docs lock bench clean

run: $(STAMP)  ## Run web + worker locally on embedded defaults
	$(PY) scripts/run_local.py

up: $(STAMP)  ## Rehearse render.yaml as Render would run it: make up ARGS="--env-file FILE [--processes]"
	$(PY) scripts/blueprint_up.py render.yaml $(ARGS)

test: setup lint  ## Set up what the tests need, lint, check generated docs, run every test
	$(PY) -m remosphere.envdocs --check
	$(PY) -m pytest

setup:  ## Install and start what the tests need (buildah, chromium, Redis, PostgreSQL...)
	scripts/test-setup.sh

lint: $(STAMP)  ## ruff, the import contracts, shellcheck, hadolint, bandit, and the CI workflow against its schema
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m ruff format --check .
	$(VENV)/bin/shellcheck docker/*.sh scripts/*.sh .ci/run
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/bandit -q -r remosphere servicespec authentication emails operations blueprintcheck blueprintup standins scripts
	# stack/ starts the project's own processes and the tools they need: that is its job
	$(VENV)/bin/bandit -q -r stack --skip B404,B603,B607
	$(VENV)/bin/check-jsonschema -q --builtin-schema vendor.github-workflows .github/workflows/*.yml

bench: $(STAMP)  ## Run the benchmarks; regenerate docs/BENCHMARKS.md and bench/results.json
	$(PY) -m bench.run

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

docs: $(STAMP)  ## Regenerate .env.example and the README's variable table
	$(PY) -m remosphere.envdocs --write

lock: $(STAMP)  ## Re-resolve requirements/*.txt from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra app --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes -q -o requirements/base.txt
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes -q -o requirements/dev.txt

$(STAMP): requirements/dev.txt pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required (python3 is %d.%d); run: make PYTHON=python3.11 ..." % sys.version_info[:2])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
