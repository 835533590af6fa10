# Switchboard: `make run` serves the product, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The second test pass runs against these (started by .ci/run on CI). Redis database 11 is the
# tests' own: nothing else on the machine should use it.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/11
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint install worker beat bench bench-smoke messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## run: set up and start the whole product (embedded mode unless DATABASE_URL/REDIS_URL are set)
# The demo API channel calls back this server (/demo/partner-callback/): allow 127.0.0.1 for it.
run: export WEBHOOK_ALLOWED_HOSTS ?= 127.0.0.1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --base-url http://127.0.0.1:$(PORT)
	$(BIN)/python -m uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan on

## worker, beat: the other two processes of distributed mode (REDIS_URL set)
worker: install
	$(BIN)/celery -A config worker --loglevel INFO
beat: install
	$(BIN)/celery -A config beat --loglevel INFO --schedule $(VENV)/celerybeat-schedule

## test: lint, then the suite on SQLite (embedded) and on PostgreSQL + Redis
test: lint test-sqlite test-postgres

## lint: ruff, the formatter's check, the import contract (import-linter) and mypy
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test-sqlite: install
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CACHE_URL -u CHANNEL_LAYER_URL SWITCHBOARD_DATA_DIR=$(CURDIR)/var/test \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	@$(BIN)/python -c "import psycopg, sys; psycopg.connect('$(TEST_DATABASE_URL)', connect_timeout=3).close()" \
		|| (echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL); start it (see README) or set TEST_DATABASE_URL" && exit 1)
	@$(BIN)/python -c "import redis; redis.Redis.from_url('$(TEST_REDIS_URL)', socket_timeout=3).ping()" \
		|| (echo "Redis is not reachable at $(TEST_REDIS_URL); start it (see README) or set TEST_REDIS_URL" && exit 1)
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SWITCHBOARD_DATA_DIR=$(CURDIR)/var/test \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: every benchmark over the real stack (PostgreSQL and Redis on 127.0.0.1; see README).
## BENCH_ARGS passes options, e.g. BENCH_ARGS="--quick" or "--only list,page".
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

## bench-smoke: every benchmark step, quick, on databases of its own (PostgreSQL and Redis needed);
## the harness empties the Redis database it is given, so it gets its own number.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13
bench-smoke: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) SWITCHBOARD_DATA_DIR=$(CURDIR)/var/test \
		$(BIN)/python -m pytest -m bench tests/bench $(PYTEST_ARGS)

## messages: refresh locale/id's catalogues from the sources and compile them (GNU gettext needed);
## translate every new entry in the .po files, then run it again (docs/i18n.md).
I18N_IGNORE = -i .venv -i var -i tests -i benchmarks -i node_modules -i staticfiles -i build
messages: install
	env -u DATABASE_URL -u REDIS_URL SWITCHBOARD_DATA_DIR=$(CURDIR)/var/test \
		$(BIN)/python manage.py makemessages -l id $(I18N_IGNORE)
	env -u DATABASE_URL -u REDIS_URL SWITCHBOARD_DATA_DIR=$(CURDIR)/var/test \
		$(BIN)/python manage.py makemessages -d djangojs -l id $(I18N_IGNORE) -i static/vendor
	env -u DATABASE_URL -u REDIS_URL SWITCHBOARD_DATA_DIR=$(CURDIR)/var/test \
		$(BIN)/python manage.py compilemessages -l id -i .venv

clean:
	rm -rf $(VENV) var
