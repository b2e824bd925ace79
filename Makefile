# OpsWorker — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/base.txt requirements/dev.txt | sha256sum | cut -c1-12)
export DJANGO_SETTINGS_MODULE ?= opsworker.settings.dev

.PHONY: run test lint format lock venv services migrate demo check-python clean

run: venv services migrate demo ## Start web, worker and scheduler with a demo organization
	@# run.py prints the URL: it reads OPSWORKER_PORT from the environment, then .env, like the settings.
	@$(PY) -m opsworker.devtools.run

test: venv services ## The whole suite against real PostgreSQL and Redis
	DJANGO_SETTINGS_MODULE=opsworker.settings.test $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv ## ruff check and format check, import contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The lock files are compiled with hashes by the uv pinned in dev.txt; existing pins are kept, so only
# a changed .in file moves versions (`make lock UV_ARGS='--upgrade-package NAME'` moves one on purpose).
# The agent's image installs agent/requirements.txt: compiled against base.txt, so its pins are the portal's.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(UV_ARGS)

lock: venv ## Recompile requirements/*.txt and agent/requirements.txt (hashed) from the .in files
	$(UV_COMPILE) requirements/base.in -o requirements/base.txt
	$(UV_COMPILE) requirements/dev.in -o requirements/dev.txt
	$(UV_COMPILE) agent/requirements.in -c requirements/base.txt -o agent/requirements.txt

check-python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required: install python3.11 (or set PYTHON=/path/to/python3.11)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { echo "$(PYTHON) is not Python 3.11"; exit 1; }

venv: $(STAMP)

# Reinstall only when a lock file changes (the stamp name carries their hash).
$(STAMP): requirements/base.txt requirements/dev.txt
	@$(MAKE) --no-print-directory check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/base.txt -r requirements/dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

services: venv ## Start local PostgreSQL and Redis when installed but stopped
	@$(PY) -m opsworker.devtools.services

migrate: venv services
	@$(PY) manage.py migrate_schemas --executor standard -v 0

demo: migrate
	@$(PY) manage.py ensure_demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache staticfiles
