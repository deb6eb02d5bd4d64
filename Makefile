# DTI Console: `make run` sets up and serves the console, `make test` runs the suite.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
WORKERS ?= 2
export FLASK_APP := run.py

PO := app/translations/vi/LC_MESSAGES/messages.po
MO := $(PO:.po=.mo)

.PHONY: run serve test lint format bench translations extract-messages clean

$(VENV)/.runtime: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(MO): $(PO) $(VENV)/.runtime
	$(BIN)/pybabel compile -d app/translations > /dev/null

translations: $(MO)

## Set up (once), migrate, seed the demo data if empty, and serve on PORT.
run: $(VENV)/.runtime $(MO)
	$(BIN)/flask db upgrade
	$(BIN)/flask dti init-roles > /dev/null
	$(BIN)/flask dti seed --demo --if-empty
	$(BIN)/flask dti demo-accounts
	@echo "DTI Console: http://127.0.0.1:$(PORT)/"
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) \
		--access-logfile - run:app

## Set up (once) and run the whole test suite (TEST_DATABASE_URL for PostgreSQL).
test: $(VENV)/.dev $(MO)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks at a small size (about a minute) on their own instance/bench.db,
## rebuilt each time; README "Benchmarks" has the full size.
bench: export DATABASE_URL = sqlite:///$(CURDIR)/instance/bench.db
bench: $(VENV)/.dev
	rm -f instance/bench.db
	$(BIN)/python -m bench.generate --agencies 1200 --indicators 40 --years 1
	$(BIN)/python -m bench.run --repeats 5 --warmup 1 --budget 3

## Refresh the message catalogue after adding user-visible strings.
extract-messages: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _ -o app/translations/messages.pot .
	$(BIN)/python -m app.i18n merge-fab app/translations/messages.pot
	$(BIN)/pybabel update -N -i app/translations/messages.pot -d app/translations -l vi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
