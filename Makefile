# Two commands: `make run` (the app on SQLite with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The browser tests' tools from the npm registry (axe-core), as package-lock.json pins them; npm ci rewrites this file.
NODE_STAMP := node_modules/.package-lock.json
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install browser-tools translations run test bench messages clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

install: $(STAMP)

# The tools the browser tests use beside the Python packages (npm must be installed: .ci/run installs it).
browser-tools: $(NODE_STAMP)

translations: install
	$(BIN)/pybabel compile --statistics -d operator_app/translations

run: translations
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

test: translations browser-tools
	bash scripts/test.sh

# Benchmarks (not part of the test command): timings and SQL counts of the heavy pages.
bench: translations
	$(BIN)/python -m benchmarks

# After changing user-facing text: refresh the catalogue, then translate the new entries (Chinese first).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location -o operator_app/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -w 120 -i operator_app/translations/messages.pot -d operator_app/translations

clean:
	rm -rf $(VENV) instance test-artifacts node_modules

screenshots: translations
	$(BIN)/python scripts/screenshots.py
