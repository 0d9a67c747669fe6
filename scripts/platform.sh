# shellcheck shell=bash
# Sourced by scripts/bootstrap.sh and systemd/install.sh: what both need to
# know about the machine. Bash only; sets no options of its own.

# Refuse 32-bit userlands in one sentence. Asks dpkg (Raspberry Pi OS 32-bit
# runs a 64-bit kernel on a Pi 4, so `uname -m` would say aarch64), else
# the size of a pointer in the Python that will run the kiosk.
refuse_unsupported() {  # program-name python
    local arch=""
    if command -v dpkg >/dev/null 2>&1; then
        arch="$(dpkg --print-architecture 2>/dev/null || true)"
    fi
    if [ -z "$arch" ] && [ "$("$2" -c 'import struct; print(struct.calcsize("P") * 8)' 2>/dev/null)" = 32 ]; then
        arch=32-bit
    fi
    case "$arch" in
        armhf|armel|i386|32-bit)
            echo "$1: this is a 32-bit system ($arch), which Ashyq Kiosk does not support because pygame, PyNaCl, opencv and zxing-cpp have no wheels for it: install Raspberry Pi OS (64-bit) bookworm or Debian 12 arm64/amd64 instead." >&2
            return 1 ;;
    esac
}

# Install the Debian packages in "$@" that are not installed yet; nothing
# when all are there or when this is not a Debian-family system.
ensure_packages() {  # program-name package...
    local who="$1" pkg missing=() sudo=""
    shift
    command -v dpkg >/dev/null 2>&1 || return 0
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "$who: installing ${missing[*]}"
    if ! { $sudo apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
               "${missing[@]}" </dev/null; }; then
        echo "$who: could not install ${missing[*]}; run: sudo apt-get update && sudo apt-get install ${missing[*]}" >&2
        return 1
    fi
}
