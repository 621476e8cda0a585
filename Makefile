# Physical Activity Resource Hub: the two commands are `make run` and `make test`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first of these that is Python >= 3.12 (pyenv shims for missing versions fail the check).
# Evaluated only when the virtualenv has to be created.
PYTHON ?= $(shell for py in python3.13 python3.12 python3; do \
	if command -v $$py >/dev/null 2>&1 \
		&& $$py -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
		echo $$py; break; \
	fi; done)

VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
AXE := node_modules/axe-core/axe.min.js
# axe-core is only needed by the browser accessibility tests, which skip without it.
NPM := $(shell command -v npm 2>/dev/null)
NODE_DEPS := $(if $(NPM),$(AXE))

.PHONY: help run test tools bench install migrate superuser lint format messages clean distclean

help:
	@echo "make run        install, migrate, load the demo content, serve on http://127.0.0.1:8000/"
	@echo "make test       lint, check migrations, collect static files, run the test suite"
	@echo "make install    create $(VENV) and install the project with its dev tools"
	@echo "make tools      as root with apt: install Debian's chromium and wrk (browser tests, bench/)"
	@echo "make bench      run bench/run.py \$$BENCH_ARGS (see bench/README.md)"
	@echo "make migrate    apply database migrations"
	@echo "make superuser  create an admin account for editors"
	@echo "make messages   extract UI messages into locale/ for translators"
	@echo "make lint       ruff check, ruff format --check, djlint --lint on templates"
	@echo "make format     ruff format and safe ruff fixes"
	@echo "make clean      remove caches and collected static files"
	@echo "make distclean  clean, and remove $(VENV) and node_modules too"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Python 3.12 or newer is needed: none of python3.13, python3.12, python3 on PATH is." >&2; \
		echo "Install one, or run: make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)" >&2; \
		exit 1; \
	fi
	$(PYTHON) -m venv $(VENV)

# Reinstalled only when pyproject.toml changes, so a second `make run` starts at once.
$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(INSTALLED)

# Debian's chromium (browser tests) and wrk (bench/), installed when run as root with apt-get;
# otherwise nothing happens here and the test run names what is missing at its end.
tools:
	@scripts/install-test-tools.sh

BENCH_ARGS ?= --size 10000
bench: install tools
	$(BIN)/python bench/run.py $(BENCH_ARGS)

$(AXE): package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

# Local development: debug on, SQLite unless DATABASE_URL says otherwise.
run: export DJANGO_DEBUG = true
run: install
	$(BIN)/python manage.py compile_translations
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_starter_content --publish-demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

migrate superuser: export DJANGO_DEBUG ?= true
migrate: install
	$(BIN)/python manage.py migrate --noinput

superuser: install
	$(BIN)/python manage.py createsuperuser

# Tests run as production does: debug off, manifest static files, no SSL redirect.
# DATABASE_URL is left alone: CI sets it for the PostgreSQL run.
test: export DJANGO_SECRET_KEY = test-only-secret-key
test: export DJANGO_ALLOWED_HOSTS = localhost,127.0.0.1,testserver
test: export DJANGO_SECURE_SSL_REDIRECT = false
test: export DJANGO_DEBUG = false
test: install tools $(NODE_DEPS)
ifeq ($(NPM),)
	@echo "npm not found: axe-core not installed, browser accessibility tests will skip."
endif
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py compile_translations
	$(BIN)/pytest

# Extract UI messages into locale/*/LC_MESSAGES/django.po (needs GNU gettext's xgettext).
messages: install
	DJANGO_DEBUG=true $(BIN)/python manage.py makemessages --all --no-obsolete \
		--ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=tests --ignore=bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf staticfiles locale/*/LC_MESSAGES/*.mo .pytest_cache .ruff_cache .hypothesis test-artifacts
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
