# Two commands on a fresh Debian/Ubuntu machine:
#   make demo   installs what is missing and replays a generated sample through ser-live
#   make test   installs the test extras and runs the whole test suite
# Needs python3 (>= 3.10) with venv; system packages are installed with apt-get (sudo if not root).

VENV     ?= .venv
PYTHON   ?= python3
BIN      := $(VENV)/bin
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# PortAudio for the microphone, espeak-ng to synthesise the demo sample.
APT_RUNTIME := libportaudio2 espeak-ng
# The live-path tests (and bench/live.py) start a private PulseAudio server (pactl drives it)
# that PortAudio reaches through ALSA's pulse plugin; the documentation's commands use ffmpeg
# (phone formats) and jq (JSON lines), and tests/docs runs them as written. tests/serve drives
# ser-serve's browser page in headless Chromium.
APT_TEST    := $(APT_RUNTIME) pulseaudio pulseaudio-utils libasound2-plugins alsa-utils tmux \
               ffmpeg jq chromium

SAMPLE := out/sample.wav

.PHONY: demo test lint apt-runtime apt-test clean

demo: apt-runtime $(VENV)/.runtime
	$(BIN)/python -m streamer.live.demo $(SAMPLE)
	$(BIN)/ser-live --input $(SAMPLE) --csv out/sample.csv --overwrite
	@echo "timeline written to out/sample.csv"

test: apt-test $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check .

# Install Debian packages only when one is missing, so repeated runs need no root.
apt-runtime:
	@missing=$$(for p in $(APT_RUNTIME); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

apt-test:
	@missing=$$(for p in $(APT_TEST); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	@touch $@ $(VENV)/.runtime

clean:
	rm -rf $(VENV) out .cache .pytest_cache .ruff_cache
