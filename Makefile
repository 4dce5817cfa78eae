# `make up` serves skillworks, `make test` runs every test; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-installs only when pyproject.toml changes (or .venv is new).
STAMP := $(VENV)/.installed

.PHONY: install tools container-engine chromium up test

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

up: install
	$(BIN)/skillworks up

# Only the tests need a container engine and a browser; `make up` does not install them.
test: install container-engine chromium
	$(BIN)/python -m pytest -q
