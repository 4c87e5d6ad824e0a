# The two commands of the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint check bench bench-background bootstrap clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: reinstall only when the pinned requirements change.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

# Chart.js and htmx for the web pages, exactly as pinned in package-lock.json (served as static files).
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# DEBUG is off here as in production, and the service refuses to start without a real SECRET_KEY:
# unless the environment sets one, it reads this clone's own, made once (git- and docker-ignored).
.secret-key: | $(BIN)/python
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

# Debian packages: Pango and a font for WeasyPrint (the printable programme), and poppler-utils, with which
# the tests read the PDF back (pdftotext, pdftoppm). Installed only when missing.
.PHONY: system-packages test-system-packages
system-packages:
	@ldconfig -p | grep -q libpangoft2-1.0.so.0 && fc-list | grep -qi dejavu || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
	   fonts-dejavu-core) || { echo "the PDF programme needs Debian's libpango-1.0-0, libpangoft2-1.0-0 and fonts-dejavu-core"; exit 1; }

test-system-packages: system-packages
	@command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils) || \
	  { echo "the tests need Debian's poppler-utils (pdftotext, pdftoppm)"; exit 1; }

# Database tables, the condition catalogue and the demo accounts (all idempotent).
bootstrap: $(VENV)/.runtime-installed node_modules/.installed .secret-key system-packages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_catalog
	$(BIN)/python manage.py setup_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

# Web (gunicorn), a Celery worker and Celery beat in the foreground; Ctrl-C stops all three.
# Local runs are plain HTTP, so the HTTPS-only switches are off here.
run: bootstrap
	@echo "kneerehab on http://127.0.0.1:$(PORT)/  (API docs: http://127.0.0.1:$(PORT)/api/v1/docs/)"
	HTTPS=0 $(BIN)/honcho --procfile Procfile start --port $(PORT)

test: $(VENV)/.dev-installed node_modules/.installed test-system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/bandit -q -ll -r kneerehab conditions plans tracker -x '*/migrations/*'

# Django's deployment checklist with production-like settings.
check: $(VENV)/.runtime-installed node_modules/.installed
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=kneerehab.example $(BIN)/python manage.py check --deploy --fail-level WARNING

# Performance figures on this machine's PostgreSQL and Redis (bench/run.py; README "Performance").
# Drops and re-creates the database kneerehab_bench; BENCH_ARGS=--small for a quick run.
bench: $(VENV)/.dev-installed
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) \
	  || { echo "make bench needs wrk (Debian package wrk)"; exit 1; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Background work under load on the embedded default (bench/background.py; README "Performance").
# BENCH_ARGS=--scaled for PostgreSQL + Redis (drops and re-creates the database kneerehab_background).
bench-background: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.background $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .celery-broker .pytest_cache node_modules
