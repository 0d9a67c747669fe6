#!/usr/bin/env bash
# The README's promise, checked: in a freshly debootstrapped Debian 12 root
# that has only git, make and python3, run its two commands
# (`make demo-headless`, then the test suite) and install the service with
# systemd/install.sh. `make test` runs this after the suite; `make
# check-arm64` runs it with --arch arm64 under qemu-user-static.
#
#   scripts/fresh-root.sh [--arch amd64|arm64] [--keep]
#
# Everything lives under .fresh-root/ in the checkout and is made anew each
# run (--keep leaves the root there for a look). Only the host's network
# trust goes in: its CA certificates and /etc/pip.conf (this network
# intercepts HTTPS; pip and apt need its CA), its resolv.conf and its Debian
# mirror. No pip cache, wheel folder or package cache of the host is used.
# Inside, ASHYQ_FRESH_ROOT=1 tells the root's own `make test` not to
# debootstrap again.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT="$(pwd)"
ARCH=amd64
KEEP=no
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) ARCH="$2"; shift 2 ;;
        --keep) KEEP=yes; shift ;;
        *) echo "fresh-root: unknown option $1" >&2; exit 2 ;;
    esac
done
say() { echo "fresh-root[$ARCH]: $*"; }

if [ "${ASHYQ_FRESH_ROOT:-}" = 1 ]; then
    say "already inside a fresh root; not making another"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "fresh-root: needs root (debootstrap and chroot): sudo $0 $*" >&2
    exit 1
fi
# shellcheck source=scripts/platform.sh
. scripts/platform.sh
HOST_ARCH="$(dpkg --print-architecture)"
tools=(debootstrap debian-archive-keyring)
[ "$ARCH" = "$HOST_ARCH" ] || tools+=(qemu-user-static binfmt-support)
ensure_packages fresh-root "${tools[@]}"
if [ "$ARCH" != "$HOST_ARCH" ]; then
    [ -e /proc/sys/fs/binfmt_misc/status ] ||
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable >/dev/null 2>&1 || true
    case "$ARCH" in arm64) qemu=aarch64 ;; armhf|armel) qemu=arm ;; *) qemu="$ARCH" ;; esac
    grep -qs enabled "/proc/sys/fs/binfmt_misc/qemu-$qemu" || {
        echo "fresh-root: no binfmt handler for $ARCH binaries (qemu-user-static); cannot run that root here" >&2
        exit 1
    }
fi

WORK="$PROJECT/.fresh-root"
ROOT="$WORK/$ARCH"
LOG="$WORK/$ARCH.log"
MIRROR="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/* *$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
started=$(date +%s)

mounted=()
cleanup() {
    local status=$? proc i
    # Whatever still runs in the root (a database a package started) is ours: end it.
    for proc in /proc/[0-9]*; do
        if [ "$(readlink "$proc/root" 2>/dev/null)" = "$ROOT" ]; then
            kill "${proc#/proc/}" 2>/dev/null || true
        fi
    done
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -l "${mounted[$i]}" 2>/dev/null || true
    done
    if [ "$KEEP" = no ]; then rm -rf "$ROOT"; fi
    [ "$status" -eq 0 ] || say "FAILED after $(( $(date +%s) - started )) s; the last lines of $LOG:" >&2
    [ "$status" -eq 0 ] || tail -n 40 "$LOG" >&2
    exit "$status"
}
trap cleanup EXIT
bind() {  # source target [mount options]
    mkdir -p "$2"
    mount "${@:3}" "$1" "$2"
    mounted+=("$2")
}

mkdir -p "$WORK"
rm -rf "$ROOT"
: > "$LOG"
say "debootstrap bookworm ($MIRROR) into $ROOT"
debootstrap --arch="$ARCH" --variant=minbase --include=git,make,python3,ca-certificates \
    bookworm "$ROOT" "$MIRROR" >>"$LOG" 2>&1
say "base system in $(( $(date +%s) - started )) s"

# The network's trust and names, nothing else of the host's.
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >>"$LOG" 2>&1
fi
[ ! -f /etc/pip.conf ] || cp /etc/pip.conf "$ROOT/etc/pip.conf"
# As in any chroot or container: packages must not start services here.
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"

# The checkout as a clone would have it (tracked files, and new ones not ignored).
mkdir -p "$ROOT/root/ashyq-kiosk"
git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$ROOT/root/ashyq-kiosk"

bind proc "$ROOT/proc" -t proc
bind sysfs "$ROOT/sys" -t sysfs
bind /dev "$ROOT/dev" --rbind
bind tmpfs "$ROOT/tmp" -t tmpfs -o mode=1777
bind tmpfs "$ROOT/run" -t tmpfs -o mode=0755

in_root() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ASHYQ_FRESH_ROOT=1 \
        /bin/bash -c "cd /root/ashyq-kiosk && $1"
}
step() {  # name command
    local t0 status=0
    t0=$(date +%s)
    say "$1 ..."
    # The whole output goes to the log; the progress lines to the terminal.
    # (an if: set -e would end the subshell before it wrote the status)
    { if in_root "$2" </dev/null 2>&1; then echo 0 >"$WORK/status"; else echo "$?" >"$WORK/status"; fi; } |
        tee -a "$LOG" | { grep -E "passed|failed|error|Error|install.sh:|bootstrap:|headless" || true; }
    status="$(cat "$WORK/status")"
    if [ "$status" -ne 0 ]; then say "$1: exit $status"; return "$status"; fi
    say "$1: ok in $(( $(date +%s) - t0 )) s"
}
step "make demo-headless" "make demo-headless"
step "the test suite" "make test"
step "systemd/install.sh" "systemd/install.sh --no-start && /usr/local/bin/ashyq-kiosk check-config /etc/ashyq-kiosk/kiosk.toml"
say "passed in $(( $(date +%s) - started )) s"
