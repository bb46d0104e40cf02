# Everything runs from a project-local virtual environment (.venv) so a fresh
# machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean install uninstall

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m device.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# ---- on a Raspberry Pi: the project in its own venv, run by systemd ----------
PREFIX ?= /opt/smart-cushion
INSTALL_USER ?= $(or $(SUDO_USER),$(shell id -un))
INSTALL_HOME ?= $(shell getent passwd $(INSTALL_USER) | cut -d: -f6)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
UNITS := cushion.service cushion-dashboard.service

install:
	$(SUDO) $(PYTHON) -m venv $(PREFIX)
	$(SUDO) $(PREFIX)/bin/pip install --quiet --upgrade pip
	$(SUDO) $(PREFIX)/bin/pip install --quiet '.[pi]'
	$(SUDO) $(PREFIX)/bin/python -m device.units --prefix $(PREFIX) --user $(INSTALL_USER) --home $(INSTALL_HOME)
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
