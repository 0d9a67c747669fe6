#!/usr/bin/env bash
# Install Ashyq Kiosk on Raspberry Pi OS (bookworm) or Debian as a systemd service.
#
#   sudo systemd/install.sh               install or update; enable and (re)start
#   sudo systemd/install.sh --no-start    install or update; enable, start at next boot
#   sudo systemd/install.sh --uninstall   remove; keeps the journal and the config
#   systemd/install.sh --destdir DIR      lay the files out under DIR (tests)
#
# Options: --source DIR (the checkout; default: this script's parent),
#   --with-input (USB keypad or keyboard-wedge scanner: builds evdev, which
#   needs gcc and python3-dev; chosen by itself when kiosk.toml names one),
#   --pip-args "ARGS" (e.g. "--no-index --find-links /media/usb/wheels"),
#   --no-pip (venv without the kiosk in it: for tests only, says so loudly).
# Needs only python3 on Raspberry Pi OS 64-bit or Debian 12; installs the
# Debian packages it lacks. A first install that fails is rolled back.
# Safe to run again: it never overwrites kiosk.toml, secrets.toml or a udev
# rule a technician has edited, and a second run leaves the same files.
set -euo pipefail

PREFIX=/opt/ashyq-kiosk
SERVICE_USER=ashyq
GROUPS_WANTED=(gpio dialout video input render)
UNITS=(ashyq-kiosk.service ashyq-kiosk-retry.timer)
RULE=99-ashyq-scanner.rules
PYTHON="${PYTHON:-python3}"
DESTDIR=""
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
START=yes
UNINSTALL=no
PIP=yes
PIP_ARGS=""
INPUT=auto
ARGS=("$@")
# shellcheck source=scripts/platform.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/platform.sh"

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
need_value() { [ $# -ge 2 ] || { echo "install.sh: $1 needs a value" >&2; usage 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --destdir) need_value "$@"; DESTDIR="$(realpath -m "$2")"; shift 2 ;;
        --source) need_value "$@"; SOURCE="$(realpath "$2")"; shift 2 ;;
        --pip-args) need_value "$@"; PIP_ARGS="$2"; shift 2 ;;
        --no-start) START=no; shift ;;
        --no-pip) PIP=no; shift ;;
        --with-input) INPUT=yes; shift ;;
        --uninstall) UNINSTALL=yes; shift ;;
        -h|--help) usage 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage 2 ;;
    esac
done

say() { echo "install.sh: $*"; }
live() { [ -z "$DESTDIR" ]; }   # acting on this machine, not into a folder
# sd_booted(): false in a chroot or a container without systemd, where
# systemctl can enable units (offline) but not reload or start them.
systemd_running() { [ -d /run/systemd/system ]; }
ETC="$DESTDIR/etc/ashyq-kiosk"
UNIT_DIR="$DESTDIR/etc/systemd/system"
RULES_DIR="$DESTDIR/etc/udev/rules.d"
STATE="$DESTDIR/var/lib/ashyq-kiosk"
VENV="${DESTDIR}${PREFIX}/venv"

if live && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (sudo), or with --destdir DIR" >&2
    exit 1
fi
refuse_unsupported install.sh "$PYTHON" || exit 1

# systemd >= 254 knows RestartSteps=; bookworm has 252. Without systemctl
# (a bare build root), assume the older one: the unit works on both.
systemd_version() {
    local version
    version="$(systemctl --version 2>/dev/null | awk 'NR == 1 { print $2 }')" || true
    [[ "$version" =~ ^[0-9]+ ]] && echo "${BASH_REMATCH[0]}" || echo 0
}

uninstall() {
    if live; then
        # Stopping runs ExecStopPost, which turns the relay off: before the venv goes.
        systemctl disable --now "${UNITS[@]}" 2>/dev/null || true
    fi
    for unit in "${UNITS[@]}"; do rm -f "$UNIT_DIR/$unit"; done
    rm -rf "$UNIT_DIR/ashyq-kiosk.service.d"
    rm -f "$RULES_DIR/$RULE"
    rm -rf "${DESTDIR}${PREFIX}"
    if [ "$(readlink "$DESTDIR/usr/local/bin/ashyq-kiosk" 2>/dev/null)" = "$PREFIX/venv/bin/ashyq-kiosk" ]; then
        rm -f "$DESTDIR/usr/local/bin/ashyq-kiosk"
    fi
    if live; then
        if systemd_running; then systemctl daemon-reload; fi
        udevadm control --reload 2>/dev/null || true
    fi
    say "removed the service, the udev rule and $PREFIX"
    say "kept the journal in /var/lib/ashyq-kiosk, the config in /etc/ashyq-kiosk and the user $SERVICE_USER"
}

create_user() {
    local group
    if ! live; then
        say "would create the system user $SERVICE_USER, in groups ${GROUPS_WANTED[*]} (creating those missing)"
        return
    fi
    # The unit names every group in SupplementaryGroups=; one missing would
    # fail it with 216/GROUP (plain Debian has no gpio group, for one).
    for group in "${GROUPS_WANTED[@]}"; do
        if ! getent group "$group" >/dev/null; then
            groupadd --system "$group"
            say "created the missing group $group"
        fi
    done
    if ! getent passwd "$SERVICE_USER" >/dev/null; then
        useradd --system --user-group --home-dir /var/lib/ashyq-kiosk --no-create-home \
                --shell /usr/sbin/nologin --comment "Ashyq kiosk" "$SERVICE_USER"
        CREATED_USER=yes
        say "created the system user $SERVICE_USER"
    fi
    usermod --append --groups "$(IFS=,; echo "${GROUPS_WANTED[*]}")" "$SERVICE_USER"
    say "$SERVICE_USER is in: ${GROUPS_WANTED[*]}"
}

# Does the venue's kiosk.toml name a USB keypad or wedge scanner (evdev)?
config_wants_input() {
    [ -f "$ETC/kiosk.toml" ] || return 1
    "$PYTHON" - "$ETC/kiosk.toml" <<'PY' 2>/dev/null
import sys, tomllib
with open(sys.argv[1], "rb") as handle:
    cfg = tomllib.load(handle)
wanted = any(cfg.get(section, {}).get("evdev_device") for section in ("keypad", "wedge"))
sys.exit(0 if wanted or cfg.get("keypad", {}).get("matrix_rows") else 1)
PY
}

install_packages() {
    local packages=(python3-venv)
    [ "$INPUT" = yes ] && packages+=(gcc libc6-dev python3-dev)  # pip compiles evdev
    if live; then
        ensure_packages install.sh "${packages[@]}"
    else
        say "would install the Debian packages that are missing of: ${packages[*]}"
    fi
}

install_venv() {
    local options=()
    [ "$PIP" = yes ] || options+=(--without-pip)  # faster, and nothing pip-made to mistake for real
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "${options[@]}" "$VENV"
    if [ "$PIP" = yes ]; then
        # shellcheck disable=SC2086 # PIP_ARGS is a list of pip options on purpose
        "$VENV/bin/python" -m pip install --quiet --upgrade $PIP_ARGS pip
        # shellcheck disable=SC2086
        local target="$SOURCE"
        [ "$INPUT" = yes ] && target="${SOURCE}[input]"
        # shellcheck disable=SC2086
        "$VENV/bin/python" -m pip install --quiet $PIP_ARGS "$target"
        say "installed the kiosk into $PREFIX/venv$([ "$INPUT" = no ] || echo ", with evdev for keypads and wedge scanners")"
    else
        say "WARNING: --no-pip: $PREFIX/venv has no kiosk in it; this is a test install"
    fi
    # The technician types `ashyq-kiosk doctor`, not the venv's path.
    install -d -m 0755 "$DESTDIR/usr/local/bin"
    ln -sfn "$PREFIX/venv/bin/ashyq-kiosk" "$DESTDIR/usr/local/bin/ashyq-kiosk"
    install -d -m 0755 "${DESTDIR}${PREFIX}/docs"
    install -m 0644 "$SOURCE/docs/technician.md" "${DESTDIR}${PREFIX}/docs/technician.md"
}

# Copy only when the target is absent: the venue's settings survive updates.
install_once() {  # mode source target what
    if [ -e "$3" ]; then
        say "kept the existing $4 ${3#"$DESTDIR"}"
    else
        install -m "$1" "$2" "$3"
        say "installed ${3#"$DESTDIR"}"
    fi
}

install_config() {
    install -d -m 0750 "$ETC"
    install_once 0640 "$SOURCE/config/kiosk.example.toml" "$ETC/kiosk.toml" config
    install_once 0600 "$SOURCE/systemd/secrets.example.toml" "$ETC/secrets.toml" secrets
    install -d -m 0700 "$STATE"
    if live; then
        # root:ashyq 0750/0640 lets the service read its config but not change it;
        # the secrets and the journal are the service user's alone.
        chgrp "$SERVICE_USER" "$ETC" "$ETC/kiosk.toml"
        chown "$SERVICE_USER:$SERVICE_USER" "$ETC/secrets.toml" "$STATE"
    fi
}

install_units() {
    local unit dropin="$UNIT_DIR/ashyq-kiosk.service.d"
    install -d -m 0755 "$UNIT_DIR" "$RULES_DIR"
    for unit in "${UNITS[@]}"; do
        install -m 0644 "$SOURCE/systemd/$unit" "$UNIT_DIR/$unit"
    done
    # The rule is edited in place with the scanner's USB ids: keep an edited one.
    if [ -e "$RULES_DIR/$RULE" ] && ! cmp -s "$SOURCE/systemd/$RULE" "$RULES_DIR/$RULE"; then
        say "kept the edited udev rule /etc/udev/rules.d/$RULE (compare with systemd/$RULE)"
    else
        install -m 0644 "$SOURCE/systemd/$RULE" "$RULES_DIR/$RULE"
    fi
    if [ "$(systemd_version)" -ge 254 ]; then
        install -d -m 0755 "$dropin"
        printf '%s\n' "# Written by install.sh for systemd >= 254: restarts slow down" \
            "# from 5 s to 2 min instead of failing after the start limit." \
            "[Service]" "RestartSteps=8" "RestartMaxDelaySec=120" "[Unit]" \
            "StartLimitIntervalSec=1h" "StartLimitBurst=20" > "$dropin/restart-backoff.conf"
        chmod 0644 "$dropin/restart-backoff.conf"
    else
        rm -rf "$dropin/restart-backoff.conf"
        rmdir "$dropin" 2>/dev/null || true
    fi
    if live; then
        if udevadm control --reload 2>/dev/null; then
            udevadm trigger --subsystem-match=tty --action=add || true
        fi
        if systemd_running; then systemctl daemon-reload; fi
        systemctl enable ashyq-kiosk.service
    fi
}

if [ "$UNINSTALL" = yes ]; then
    uninstall
    exit 0
fi
for file in config/kiosk.example.toml systemd/secrets.example.toml docs/technician.md; do
    [ -f "$SOURCE/$file" ] || {
        echo "install.sh: $SOURCE/$file is missing: is --source a kiosk checkout?" >&2
        exit 1
    }
done
if [ "$INPUT" = auto ]; then
    INPUT=no
    if config_wants_input; then INPUT=yes; say "kiosk.toml names an evdev keypad or scanner: installing evdev"; fi
fi

# A first install that fails part way is undone, so that a second try
# starts clean and nothing half-made (a unit without its venv) is enabled.
# An update that fails keeps the config and journal; pip keeps the previous
# kiosk if it could not install the new one.
FRESH=yes
[ ! -e "$VENV" ] && [ ! -e "$UNIT_DIR/ashyq-kiosk.service" ] || FRESH=no
[ -e "$ETC" ] && KEEP_ETC=yes || KEEP_ETC=no
[ -e "$STATE" ] && KEEP_STATE=yes || KEEP_STATE=no
CREATED_USER=no
STEP=""
on_exit() {
    local status=$?
    [ "$status" -ne 0 ] && [ -n "$STEP" ] || return 0
    echo "install.sh: FAILED while $STEP (exit $status); see the lines above" >&2
    if [ "$FRESH" = yes ]; then
        uninstall >/dev/null 2>&1 || true
        [ "$KEEP_ETC" = yes ] || rm -rf "$ETC"
        [ "$KEEP_STATE" = yes ] || rm -rf "$STATE"
        if [ "$CREATED_USER" = yes ]; then userdel "$SERVICE_USER" 2>/dev/null || true; fi
        echo "install.sh: rolled back; nothing of this attempt is left installed" >&2
    else
        echo "install.sh: the previous installation, its config and its journal are kept" >&2
    fi
    echo "install.sh: fix the cause, then run again: sudo $0 ${ARGS[*]}" >&2
}
trap on_exit EXIT
STEP="installing Debian packages"; install_packages
STEP="creating the service user"; create_user
STEP="building the venv"; install_venv
STEP="installing the config"; install_config
STEP="installing the units"; install_units
STEP=""
if live && ! systemd_running; then
    say "enabled; systemd is not running here (a chroot?), so it starts at the first boot"
elif live && [ "$START" = yes ]; then
    systemctl restart ashyq-kiosk.service
    say "started; follow it with: journalctl -u ashyq-kiosk -f"
elif live; then
    say "enabled; it starts at the next boot, or now with: systemctl start ashyq-kiosk"
fi
say "done${DESTDIR:+ (into $DESTDIR)}"
