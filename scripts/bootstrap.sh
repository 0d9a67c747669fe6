#!/usr/bin/env bash
# Set up a development/test machine: system packages (only those missing),
# then a virtual environment in .venv with the kiosk installed editable.
# Safe to run again; it only installs what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

# libzbar0: the optional ZBar decoder; systemd: systemd-analyze for the unit
# checks; python3-venv: Debian splits venv out of python3.
want=(python3-venv libzbar0 systemd)
missing=()
if command -v dpkg >/dev/null 2>&1; then
    for pkg in "${want[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
fi
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "bootstrap: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" </dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
    .venv/bin/pip install -q --upgrade pip setuptools wheel </dev/null
    .venv/bin/pip install -q -e ".[test]" </dev/null
    touch "$stamp"
fi
