"""``ashyq-kiosk``: the one command technicians, staff trainers and tests use.

Every subcommand turns our own errors into a short message on stderr and an
exit code (2 for bad input or configuration, 1 for a failure at run time);
a traceback means a bug.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from typing import Optional

from kiosk.app.config import DEFAULT_PATH as DEFAULT_CONFIG
from kiosk.core.errors import ConfigError, DocumentError, KioskError


def _parse(args) -> int:
    import datetime as dt
    from kiosk.core.documents import parse
    payload = args.payload.encode("utf-8", "surrogateescape")
    if args.payload == "-":
        payload = sys.stdin.buffer.read()
    try:
        identity = parse(payload, today=dt.date.today())  # the machine's day of the scan
    except DocumentError as exc:
        print(f"refused ({exc.reason}): {exc}", file=sys.stderr)
        return 2
    print(json.dumps(identity.as_json(), ensure_ascii=False))
    return 0


def _check_config(args) -> int:
    """Every problem in the file and in the secrets file it names, at once."""
    import tomllib
    from kiosk.app.config import load, load_secrets
    problems = []
    try:
        secrets_file = load(args.file).kiosk.secrets_file
    except ConfigError as exc:
        problems += exc.problems
        secrets_file = _secrets_file_named(args.file, tomllib)
    try:
        if secrets_file:
            load_secrets(secrets_file, require_private=True)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise ConfigError(problems)
    print(f"{args.file}: ok")
    return 0


def _secrets_file_named(path: str, tomllib) -> str:
    """The secrets file a broken config still names clearly, else none."""
    from kiosk.app.schema import SCHEMA
    try:
        with open(path, "rb") as handle:
            named = tomllib.load(handle).get("kiosk", {}).get("secrets_file")
    except (OSError, ValueError, AttributeError):
        return ""
    return named if isinstance(named, str) else SCHEMA["kiosk"]["secrets_file"].default


def _run(args) -> int:
    from kiosk.services.notify import setup_logging
    from kiosk.app.config import load
    setup_logging(load(args.config).kiosk.log_level)
    from kiosk.app.wiring import run
    try:
        return run(args.config)
    except KioskError:
        raise
    except Exception as exc:
        # Configuration is validated before this point, so this is a fault
        # of the machine or a bug: one line for the technician, the details
        # at debug level for a developer.
        logging.getLogger("ashyq-kiosk").debug("start failed", exc_info=True)
        print(f"ashyq-kiosk run: cannot start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _demo(args) -> int:
    from kiosk.demo.run import main
    return main(headless=args.headless, screenshots=args.screenshots, scans=args.scan)


def _doctor(args) -> int:
    from kiosk.tools.doctor import doctor
    return doctor(args.config)


def _sync(args) -> int:
    from kiosk.app.config import load, load_secrets
    from kiosk.app.sync_command import main_sync
    cfg = load(args.config)
    return main_sync(cfg, load_secrets(cfg.kiosk.secrets_file), status_only=args.status)


def _safe_state(args) -> int:
    from kiosk.app.config import load
    from kiosk.tools.safe_state import safe_state
    return safe_state(load(args.config))


def _test_relay(args) -> int:
    from kiosk.app.config import load
    from kiosk.tools.relay_pulse import pulse_relay_once
    return pulse_relay_once(load(args.config), args.seconds)


def _hash_pin(args) -> int:
    import getpass
    from kiosk.core.staff import hash_pin
    pin = args.pin or getpass.getpass("PIN: ")
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        print("a PIN is 4 to 8 digits", file=sys.stderr)
        return 2
    print(hash_pin(pin))
    return 0


# Servers with their own argument parsers: everything after the name is theirs.
PASSTHROUGH = {"status-server": "kiosk.servers.status_server", "collector": "kiosk.servers.collector"}


def _passthrough(module: str):
    def run(args) -> int:
        main = importlib.import_module(module).main
        return main(args.rest)
    return run


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ashyq-kiosk", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, handler, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("run", _run, "run the kiosk daemon (what systemd starts)")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p = command("demo", _demo, "everything on embedded defaults, no hardware, no network")
    p.add_argument("--headless", action="store_true", help="play scripted scans offscreen and exit")
    p.add_argument("--screenshots", default="", help="folder for screenshots (headless)")
    p.add_argument("--scan", action="append", default=None,
                   help="a payload to scan (headless; repeatable; default: one of each demo person)")
    p = command("parse", _parse, "print the identity in a scanned payload as JSON")
    p.add_argument("payload", help="the payload text, or - to read bytes from stdin")
    p = command("check-config", _check_config, "validate a configuration file, every error at once")
    p.add_argument("file")
    p = command("doctor", _doctor, "check config, devices, service, clock and journal")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p = command("sync", _sync, "upload the journal to the collector once")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--status", action="store_true", help="only show the backlog")
    p = command("safe-state", _safe_state, "drive the relay and lights off (systemd ExecStopPost)")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p = command("test-relay", _test_relay, "pulse the turnstile relay once (kiosk stopped)")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--seconds", type=float, default=None, help="default: signals.pulse_seconds")
    p = command("hash-pin", _hash_pin, "print a staff PIN hash for the secrets file")
    p.add_argument("--pin", default="", help="the PIN (prompted when absent)")
    for name, text in (("status-server", "the reference status service (--help for its options)"),
                       ("collector", "collector keys (--keygen); the service itself is ashyq-collector")):
        p = command(name, _passthrough(PASSTHROUGH[name]), text)
        p.add_argument("rest", nargs=argparse.REMAINDER)
    return top


def main(argv: Optional[list] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASSTHROUGH:
        # argparse's REMAINDER refuses a first argument that starts with "--".
        module = importlib.import_module(PASSTHROUGH[argv[0]])
        return module.main(argv[1:])
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except DocumentError as exc:
        print(f"refused ({exc.reason}): {exc}", file=sys.stderr)
        return 2
    except KioskError as exc:
        print(f"ashyq-kiosk {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
