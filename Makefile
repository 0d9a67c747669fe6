# Two entry points for a fresh Debian or Raspberry Pi OS machine:
#   make demo   set everything up, run the demo on embedded defaults
#   make test   set everything up, run the test suite (what CI runs)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo demo-headless test bench clean

setup:
	./scripts/bootstrap.sh

demo: setup
	$(BIN)/ashyq-kiosk demo

demo-headless: setup
	$(BIN)/ashyq-kiosk demo --headless

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
