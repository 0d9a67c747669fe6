# Two entry points for a fresh Debian or Raspberry Pi OS machine:
#   make demo   set everything up, run the demo on embedded defaults
#   make test   set everything up, run the test suite, then the same two
#               commands in a freshly debootstrapped Debian 12 root (what CI
#               runs; the root's own `make test` skips that last stage)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo demo-headless test lint unit-test fresh-root check-arm64 bench clean

setup:
	./scripts/bootstrap.sh

demo: setup
	$(BIN)/ashyq-kiosk demo

demo-headless: setup
	$(BIN)/ashyq-kiosk demo --headless

test: unit-test fresh-root

# The layers and types are contracts: a broken one fails the build.
lint: setup
	$(BIN)/ruff check kiosk drivers collector tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

unit-test: lint
	$(BIN)/python -m pytest -q

# Needs root (debootstrap, chroot) and Debian's mirror; about 10 minutes.
fresh-root:
	./scripts/fresh-root.sh

# The same in an arm64 root under qemu-user-static (slow; not in CI).
check-arm64:
	./scripts/fresh-root.sh --arch arm64

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis .fresh-root
