#!/usr/bin/env bash
# Set up a development/test machine that has only git, make and python3:
# the system packages below (only those missing), then a virtual environment
# in .venv with the kiosk installed editable. Safe to run again; it only
# installs what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/platform.sh
. scripts/platform.sh

# The system packages the test suite needs: this one list, nowhere else
# (the fresh-root check in scripts/fresh-root.sh installs them through this
# script too). Add new ones here, with why.
TEST_PACKAGES=(
    python3-venv      # Debian splits venv out of python3
    gcc libc6-dev python3-dev  # evdev (keypad/wedge) has no wheel: pip compiles it
    libzbar0          # the optional ZBar decoder
    systemd           # systemd-analyze for the unit checks
    shellcheck        # lints install.sh and these scripts
    postgresql        # the central service's tests
    chromium chromium-driver  # the central service's browser tests
)

PY=${PYTHON:-python3}
refuse_unsupported bootstrap "$PY"
ensure_packages bootstrap "${TEST_PACKAGES[@]}"

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
    .venv/bin/pip install -q --upgrade pip setuptools wheel </dev/null
    .venv/bin/pip install -q -e ".[test,collector]" </dev/null
    touch "$stamp"
fi
