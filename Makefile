# Everything runs from a project-local virtual environment (.venv) so a fresh
# machine needs only Python 3.11+ and make. Every install comes from a lock
# (requirements/README.md): exact versions, checked against their hashes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
# pip installs exactly the lock: every file checked against its hash, and
# nothing the lock does not name (--no-deps: it names every dependency).
LOCKED_INSTALL := pip install --quiet --require-hashes --no-deps
# The project itself: built by the locked setuptools already in the venv.
PROJECT_INSTALL := pip install --quiet --no-deps --no-build-isolation

.PHONY: demo demo-fleet test test-latest bench lint lock clean install uninstall

$(STAMP): requirements-dev.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m $(LOCKED_INSTALL) -r requirements-dev.lock
	$(BIN)/python -m $(PROJECT_INSTALL) -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m device.cli.demo --port $(PORT)

# Three simulated cushions, a local Mosquitto, a hub and its dashboard (needs Debian's mosquitto).
demo-fleet: $(STAMP)
	$(BIN)/python -m device.cli.demo_fleet --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

# ruff (lint and format), mypy (strict on device.core and device.config), and
# the layers of device/ as import contracts (pyproject.toml, docs/architecture.md).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The suite against the newest releases pyproject.toml allows, in a venv of
# its own, so that an upstream change is found here before a user meets it.
# Not locked, on purpose; .ci/run stays on the lock.
LATEST := .venv-latest
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip setuptools
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	$(LATEST)/bin/python -m pip list --format=freeze | grep -v -i '^smart-cushion' > $(LATEST)/versions.txt
	@echo "test-latest: against the newest allowed releases (listed in $(LATEST)/versions.txt)"
	CUSHION_UNLOCKED=1 $(LATEST)/bin/python -m pytest -q

# Resolve the locks again from pyproject.toml, to the newest versions it
# allows (LOCK_FLAGS= keeps the versions already locked where they still fit).
LOCK_FLAGS ?= --upgrade
UV_COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--override requirements/overrides.txt --custom-compile-command "make lock" $(LOCK_FLAGS)
lock: | $(STAMP)
	$(UV_COMPILE) pyproject.toml requirements/tools.in --extra pi -o requirements.lock
	$(UV_COMPILE) pyproject.toml requirements/tools.in --extra test --extra dev -c requirements.lock \
		-o requirements-dev.lock
	@echo "lock: requirements.lock and requirements-dev.lock written; make test installs from them"

clean:
	rm -rf $(VENV) $(LATEST) build *.egg-info .pytest_cache

# ---- on a Raspberry Pi: the project in its own venv, run by systemd ----------
PREFIX ?= /opt/smart-cushion
INSTALL_USER ?= $(or $(SUDO_USER),$(shell id -un))
INSTALL_HOME ?= $(shell getent passwd $(INSTALL_USER) | cut -d: -f6)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
UNITS := cushion.service cushion-dashboard.service
# 32-bit Raspberry Pi OS: PyPI has no numpy wheel for armv7l, so numpy is
# Debian's there and the venv sees the system's packages (requirements/README.md).
ARMV7 := $(filter armv7l armv6l,$(shell uname -m))

install:
ifneq ($(ARMV7),)
	$(SUDO) apt-get install -y python3-numpy python3-dev gcc
endif
	$(SUDO) $(PYTHON) -m venv $(if $(ARMV7),--system-site-packages) $(PREFIX)
	$(SUDO) $(PREFIX)/bin/python -m $(LOCKED_INSTALL) -r requirements.lock
	$(SUDO) $(PREFIX)/bin/python -m $(PROJECT_INSTALL) .
	$(SUDO) $(PREFIX)/bin/python -m device.daemon.units --prefix $(PREFIX) --user $(INSTALL_USER) --home $(INSTALL_HOME)
	$(SUDO) usermod -aG gpio $(INSTALL_USER) || echo "install: no gpio group here (not a Pi?); skipped"
	$(SUDO) systemctl daemon-reload
	$(SUDO) systemctl enable --now $(UNITS)
	@echo "installed: journalctl -u cushion -f shows the daemon; the dashboard is on http://127.0.0.1:8080"

uninstall:
	-$(SUDO) systemctl disable --now $(UNITS)
	$(SUDO) rm -f $(addprefix /etc/systemd/system/,$(UNITS))
	$(SUDO) systemctl daemon-reload
	$(SUDO) rm -rf $(PREFIX)
	@echo "uninstalled; your config and history stay in ~/.config/smart-cushion and ~/.local/share/smart-cushion"
