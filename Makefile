# `make up` serves skillworks, `make test` runs every test; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-installs only when pyproject.toml changes (or .venv is new).
STAMP := $(VENV)/.installed

.PHONY: install tools up test

install: tools $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# git is needed by the skills (and installed if missing, where apt-get is available);
# Node.js >= 20.19 and npm are needed by react-setup and cannot be installed from here.
tools:
	@command -v git >/dev/null || { \
		echo "installing git"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq git; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq git; fi; }
	@command -v node >/dev/null && command -v npm >/dev/null || \
		echo "warning: node and npm not found; install Node.js 20.19 or newer (https://nodejs.org) for react-setup"

up: install
	$(BIN)/skillworks up

test: install
	$(BIN)/python -m pytest -q
