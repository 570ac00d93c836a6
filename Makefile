# Deme: `make` alone lists the targets.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEME := $(VENV)/bin/deme
# Real data written by others; read in place, never copied (see ../shared/README.md).
DEME_SHARED_DATA ?= $(abspath ../shared/data)
export DEME_SHARED_DATA
SCENARIO ?=
# Debian packages the demo and the tests drive for real.
DEBIAN_PACKAGES := mosquitto mosquitto-clients chromium chromium-driver gammu

.PHONY: help setup system-packages demo test lint eval bench firmware clean

help:
	@echo "Deme targets:"
	@echo "  make setup                 virtualenv in $(VENV) with the pinned packages, and Debian's $(DEBIAN_PACKAGES)"
	@echo "  make demo                  simulated wearables, GSM network and modems, Mosquitto, the hub and the console"
	@echo "  make demo SCENARIO=sos     one scripted SOS round trip without a browser; prints the timeline of every hop"
	@echo "  make test                  unit, MicroPython and end-to-end tests (no ../shared needed)"
	@echo "  make lint                  ruff, the firmware type check and the mpy-cross compile of firmware and drivers"
	@echo "  make eval                  checks and reports against the real data in ../shared/data"
	@echo "  make bench                 benchmarks (figures, not tests)"
	@echo "  make firmware BOARD=pico   the wearable's flash image in build/firmware/BOARD (pico or esp32), with its size"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet -e '.[dev]'
	touch $@

system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "Missing Debian packages:$$missing"; echo "Run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

setup: system-packages $(VENV)/.installed

demo: setup
	$(PY) -m sim.demo $(if $(SCENARIO),--scenario $(SCENARIO),)

test: setup
	$(PY) -m pytest -q tests --ignore=tests/eval

lint: setup
	$(VENV)/bin/ruff check drivers firmware hub sim tools tests
	$(PY) -m tools.mpy_compile
	$(VENV)/bin/mypy --config-file tools/mypy-firmware.ini firmware drivers

eval: setup
	$(PY) -m pytest -q tests/eval

bench: setup
	$(PY) -m tools.bench

firmware: $(VENV)/.installed
	$(PY) -m tools.firmware_image --board $(or $(BOARD),pico)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
