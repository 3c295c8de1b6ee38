# One target per task. `make help` lists them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# checkov's own virtualenv: its pins clash with pytest's (requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
# Everything below runs the virtualenv's tools, and the start scripts find them on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

WSGI_PORT ?= 8001
ASGI_PORT ?= 8002
# The race page's driver, in a process of its own so the stacks it races cannot stall it (docs/race.md).
RACE_DRIVER_PORT ?= 8003
EMBEDDED_REDIS_PORT ?= 6390
export WSGI_PORT ASGI_PORT RACE_DRIVER_PORT EMBEDDED_REDIS_PORT

# Where the browser finds each stack (myproject/settings.py, "Where the stacks are"): every page
# links to itself on the other stack, and a page Gunicorn serves opens its WebSocket on the ASGI
# port, since Gunicorn cannot hold one.
run: export WSGI_STACK_PORT ?= $(WSGI_PORT)
run: export ASGI_STACK_PORT ?= $(ASGI_PORT)

# Without REDIS_URL (or REDIS_SENTINELS), `make run` starts the embedded Redis and points both
# stacks at it.
ifneq ($(REDIS_URL)$(REDIS_SENTINELS),)
RUN_PROCESSES := wsgi asgi
RUN_PORTS := WSGI_PORT=$(WSGI_PORT) ASGI_PORT=$(ASGI_PORT) RACE_DRIVER_PORT=$(RACE_DRIVER_PORT)
else
RUN_PROCESSES := redis wsgi asgi
RUN_PORTS := WSGI_PORT=$(WSGI_PORT) ASGI_PORT=$(ASGI_PORT) RACE_DRIVER_PORT=$(RACE_DRIVER_PORT) EMBEDDED_REDIS_PORT=$(EMBEDDED_REDIS_PORT)
run: export REDIS_URL := redis://127.0.0.1:$(EMBEDDED_REDIS_PORT)/0
endif

.DEFAULT_GOAL := help
.PHONY: help install install-dev migrate seed run test test-fast test-django lint format clean check-kubernetes

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version 2>&1))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

install: $(VENV)/.installed ## Create .venv and install the runtime dependencies

install-dev: $(VENV)/.installed-dev $(CHECKOV_VENV)/.installed ## ...and the test, lint and load-test tools

migrate: install ## Apply database migrations
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate --noinput

seed: migrate ## Create the demo data (idempotent)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py seed_demo

run: seed ## Run both stacks: Gunicorn (WSGI) on 8001, Uvicorn (ASGI) on 8002
	@$(BIN)/python deploy/check_ports.py $(RUN_PORTS)
	@echo
	@echo "  WSGI stack (Gunicorn): http://127.0.0.1:$(WSGI_PORT)/"
	@echo "  ASGI stack (Uvicorn):  http://127.0.0.1:$(ASGI_PORT)/   (WebSockets too)"
	@echo "  Race page's driver:    port $(RACE_DRIVER_PORT), a Uvicorn process of its own (when the demo is on)"
	@echo "  Channel layer:         $(or $(REDIS_URL),$(REDIS_SENTINELS) (sentinels))"
	@echo "  Demo logins: admin (staff), alice, bob, carol; password wsgi-asgi-demo"
	@echo "  Ctrl-C stops everything."
	@echo
# The race's driver runs only where the demo is on (DJANGO_DEMO, on with debug): honcho stops every
# process as soon as one exits, and the driver's start script exits at once when the demo is off.
	export DJANGO_DEBUG=$${DJANGO_DEBUG:-1}; \
	processes="$(RUN_PROCESSES)"; \
	if $(BIN)/python -m myproject.preflight asgi --race-driver 2>/dev/null; then processes="$$processes race"; fi; \
	exec $(BIN)/honcho -d . -f deploy/Procfile.local start $$processes

test: install-dev ## Run the whole test suite (real servers, Redis, browsers included)
	$(BIN)/pytest

test-fast: install-dev ## Only the tests that start no process (about a minute)
	$(BIN)/pytest -m "not live and not browser"

# Django's own tests for the classes the async-native stack replaces, stock and substituted
# (deploy/django_upstream/). Django's source distribution is kept in .cache/django-upstream/.
test-django: install-dev ## Django's tests of the replaced handler and middleware: stock vs the project's classes
	$(BIN)/python -m deploy.django_upstream

lint: install-dev ## Check style (ruff) and types (mypy, Django and Channels stubs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
# The django-stubs plugin imports the settings, which refuse to load without a secret unless
# debug is on; debug only relaxes that check here, no server runs.
	DJANGO_DEBUG=1 $(BIN)/mypy

check-kubernetes: install-dev ## Render the Kubernetes overlays; validate them (schemas, checkov, docker-compose.yml)
	$(BIN)/pytest tests/deploy/test_kubernetes.py

format: install-dev ## Reformat with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove the virtualenv, the SQLite database and caches
.PHONY: help install install-dev migrate seed run test test-fast test-django lint format clean check-kubernetes

# Reports benchmarks (docs/reports.md). The 1,000,000-line shop is seeded once into
# loadtests/results/reports/shop.sqlite3; add REPORTS_BENCH_ARGS="--database-url postgres://..."
# to measure on PostgreSQL instead.
.PHONY: bench-bridge bench-csv bench-report-page bench-reports
REPORTS_BENCH_ARGS ?=

bench-bridge: install-dev ## Reports: publish-to-WebSocket latency, 200 publishes via each stack
	$(BIN)/python -m loadtests.bench_bridge $(REPORTS_BENCH_ARGS)

bench-csv: install-dev ## Reports: a 1,000,000-row CSV from each stack (time, peak memory)
	$(BIN)/python -m loadtests.bench_csv $(REPORTS_BENCH_ARGS)

bench-report-page: install-dev ## Reports: report page times on 1,000,000 order lines
	$(BIN)/python -m loadtests.bench_report_page $(REPORTS_BENCH_ARGS)

bench-reports: bench-bridge bench-csv bench-report-page ## Reports: all three benchmarks

# Sync vs async, measured (loadtests/README.md, docs/results.md). Pass options through
# COMPARE_ARGS, e.g. COMPARE_ARGS="--servers uvicorn --probes sleep --variants stock,async-native".
.PHONY: compare compare-quick
COMPARE_ARGS ?=

compare: install-dev ## Every server x every probe and variant under Locust, with a report (about 35 min)
	$(BIN)/python -m loadtests.compare $(COMPARE_ARGS)

compare-quick: install-dev ## The same, two servers and two probes, short runs (about a minute)
	$(BIN)/python -m loadtests.compare --quick $(COMPARE_ARGS)

# Chat fan-out benchmark (docs/chat.md): readers over two Uvicorn processes, each Redis layer.
# Options through CHAT_BENCH_ARGS, e.g. CHAT_BENCH_ARGS="--clients 100 --duration 10 --repeat 3".
.PHONY: bench-chat
CHAT_BENCH_ARGS ?=

bench-chat: install-dev ## Chat: fan-out to 100 and 1000 WebSocket clients on each Redis layer
	$(BIN)/python -m loadtests.chat_fanout $(CHAT_BENCH_ARGS)

# Chat fan-out beside its peer (the tutorial-shaped consumer) and its floor (a bare ASGI broadcast),
# interleaved on fresh servers (docs/chat.md, appendix). Options through FANOUT_ARGS, e.g.
# FANOUT_ARGS="--clients 200 --repeat 1 --duration 5".
.PHONY: bench-fanout
FANOUT_ARGS ?=

bench-fanout: install-dev ## Chat: fan-out to 1k/5k/10k readers, project vs plain consumer vs bare ASGI
	$(BIN)/python -m loadtests.fanout_bench $(FANOUT_ARGS)

# Reliability runs (docs/reliability.md). Options through SOAK_ARGS and CHAOS_ARGS, e.g.
# SOAK_ARGS="--clients 5000 --rate 1 --duration 60", CHAOS_ARGS="--scenarios sentinel-failover".
.PHONY: soak chaos
SOAK_ARGS ?=
CHAOS_ARGS ?=

soak: install-dev ## Reliability: 1,000 WebSocket readers over two Uvicorn processes for 60 s
	$(BIN)/python -m loadtests.soak $(SOAK_ARGS)

chaos: install-dev ## Reliability: Redis restart, Sentinel failover, SIGTERM, clients dropped mid-delivery
	$(BIN)/python -m loadtests.chaos $(CHAOS_ARGS)

# One anonymous client flooding each ASGI server with each frame type, never reading (docs/reliability.md).
# Options through HOSTILE_ARGS, e.g. HOSTILE_ARGS="--servers uvicorn --duration 15 --env UVICORN_WS=auto".
.PHONY: hostile
HOSTILE_ARGS ?=

hostile: install-dev ## Reliability: 60 s frame floods per ASGI server and frame type; memory growth
	$(BIN)/python -m loadtests.hostile $(HOSTILE_ARGS)

# The ASGI tax (docs/asgi-tax.md): Django's stock ASGI stack against the opt-in async-native one and
# Gunicorn's WSGI worker, step by step, one worker pinned to one core, a new connection per request
# on every server (Gunicorn's sync worker closes each one). Options through TAX_BENCH_ARGS, e.g.
# TAX_BENCH_ARGS="--rounds 5 --duration 10" or "--keep-alive".
.PHONY: bench-tax flamegraph
TAX_BENCH_ARGS ?=

bench-tax: install-dev ## ASGI tax: CPU per request and req/s of each step, stock to async-native
	$(BIN)/python -m loadtests.bench_asgi_tax $(TAX_BENCH_ARGS)

bench-metrics: install-dev ## Metrics: CPU per request of /metrics' bookkeeping, in microseconds
	$(BIN)/python -m loadtests.bench_metrics

flamegraph: install-dev ## ASGI tax: py-spy flame graphs of both stacks under load, into docs/asgi-tax/
	$(BIN)/python -m loadtests.profile_asgi_tax --folder docs/asgi-tax

# Screenshots for docs/screenshots.md: both stacks started as `make run` starts them, on a fresh
# seeded database and ports of their own, shot in Chromium. Options through SCREENSHOTS_ARGS, e.g.
# SCREENSHOTS_ARGS="--pages home,chat".
.PHONY: screenshots
SCREENSHOTS_ARGS ?=

screenshots: install-dev ## Every page at desktop and phone width, into docs/screenshots/
	$(BIN)/python -m screenshots $(SCREENSHOTS_ARGS)
