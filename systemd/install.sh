#!/usr/bin/env bash
# Install Ashyq Kiosk on Raspberry Pi OS (or Debian) as a systemd service.
#
#   sudo systemd/install.sh                 install or update, enable and start
#   sudo systemd/install.sh --uninstall     remove; keeps the journal and the config
#   systemd/install.sh --destdir DIR        everything into DIR (tests, packaging)
#
# Safe to run again: it never overwrites a config or secrets file that exists.
set -euo pipefail

PREFIX=/opt/ashyq-kiosk
SERVICE_USER=ashyq
GROUPS_WANTED="gpio dialout video input render"
DESTDIR=""
SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
START=yes
UNINSTALL=no
PIP=yes

usage() { sed -n '2,8p' "$0"; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --destdir) DESTDIR="$(realpath -m "$2")"; shift 2 ;;
        --source) SOURCE="$(realpath "$2")"; shift 2 ;;
        --no-start) START=no; shift ;;
        --no-pip) PIP=no; shift ;;   # tests: the venv without installing the package
        --uninstall) UNINSTALL=yes; shift ;;
        -h|--help) usage ;;
        *) echo "install.sh: unknown option $1" >&2; usage ;;
    esac
done
[ -n "$DESTDIR" ] && START=no
say() { echo "install.sh: $*"; }
live() { [ -z "$DESTDIR" ]; }   # acting on this machine, not into a folder

if live && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (sudo), or with --destdir DIR" >&2
    exit 1
fi

uninstall() {
    if live && command -v systemctl >/dev/null; then
        systemctl disable --now ashyq-kiosk.service 2>/dev/null || true
    fi
    rm -f "$DESTDIR/etc/systemd/system/ashyq-kiosk.service" \
          "$DESTDIR/etc/udev/rules.d/99-ashyq-scanner.rules"
    rm -rf "${DESTDIR}${PREFIX}"
    if live && command -v systemctl >/dev/null; then
        systemctl daemon-reload
    fi
    say "removed the service, the udev rule and ${PREFIX}"
    say "kept the journal in /var/lib/ashyq-kiosk and the config in /etc/ashyq-kiosk"
}

create_user() {
    if live; then
        getent passwd "$SERVICE_USER" >/dev/null || \
            useradd --system --home-dir /var/lib/ashyq-kiosk --no-create-home \
                    --shell /usr/sbin/nologin "$SERVICE_USER"
        for group in $GROUPS_WANTED; do
            getent group "$group" >/dev/null && usermod -a -G "$group" "$SERVICE_USER"
        done
    else
        say "would create system user $SERVICE_USER in groups: $GROUPS_WANTED"
    fi
}

install_venv() {
    local venv="${DESTDIR}${PREFIX}/venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    if [ "$PIP" = yes ]; then
        "$venv/bin/pip" install --quiet --upgrade pip
        "$venv/bin/pip" install --quiet "$SOURCE"
    fi
    install -d -m 0755 "${DESTDIR}${PREFIX}/docs"
    install -m 0644 "$SOURCE/docs/technician.md" "${DESTDIR}${PREFIX}/docs/technician.md"
}

install_config() {
    local etc="$DESTDIR/etc/ashyq-kiosk"
    install -d -m 0750 "$etc"
    if [ -e "$etc/kiosk.toml" ]; then
        say "kept the existing $etc/kiosk.toml"
    else
        install -m 0640 "$SOURCE/config/kiosk.example.toml" "$etc/kiosk.toml"
        say "installed $etc/kiosk.toml: set status.base_url and the venue, then run ashyq-kiosk check-config"
    fi
    if [ ! -e "$etc/secrets.toml" ]; then
        install -m 0600 "$SOURCE/systemd/secrets.example.toml" "$etc/secrets.toml"
    fi
    install -d -m 0700 "$DESTDIR/var/lib/ashyq-kiosk"
    if live; then
        chown "$SERVICE_USER:$SERVICE_USER" "$etc/secrets.toml" /var/lib/ashyq-kiosk
        chgrp "$SERVICE_USER" "$etc" "$etc/kiosk.toml"
    fi
}

install_units() {
    install -d -m 0755 "$DESTDIR/etc/systemd/system" "$DESTDIR/etc/udev/rules.d"
    install -m 0644 "$SOURCE/systemd/ashyq-kiosk.service" "$DESTDIR/etc/systemd/system/ashyq-kiosk.service"
    install -m 0644 "$SOURCE/systemd/99-ashyq-scanner.rules" "$DESTDIR/etc/udev/rules.d/99-ashyq-scanner.rules"
    if live; then
        if udevadm control --reload 2>/dev/null; then
            udevadm trigger --subsystem-match=tty 2>/dev/null || true
        fi
        systemctl daemon-reload
        systemctl enable ashyq-kiosk.service
    fi
}

if [ "$UNINSTALL" = yes ]; then
    uninstall
    exit 0
fi
create_user
install_venv
install_config
install_units
if [ "$START" = yes ]; then
    systemctl restart ashyq-kiosk.service
    say "started; follow it with: journalctl -u ashyq-kiosk -f"
fi
say "done${DESTDIR:+ (into $DESTDIR)}"
