"""``ashyq-kiosk collector``: what is left here of the old reference collector.

The collector is now its own service, ``ashyq-collector`` (the ``collector``
package, ``pip install ".[collector]"``); the kiosk neither imports nor needs
it. Kept here: ``--keygen``, so a technician with only the kiosk installed
can still make the sealing keypair (the public half goes into every kiosk's
``sync.collector_public_key``, the private half stays offline for traces).
"""
from __future__ import annotations

import sys
from typing import Optional

from kiosk.services.sealing import generate_keypair


def keygen(out=None) -> int:
    """Print a new keypair: private for the collector's audited trace only,
    public for every kiosk's ``sync.collector_public_key``."""
    private, public = generate_keypair()
    print(f"private (keep offline; only `ashyq-collector trace` needs it): {private}\n"
          f"public (kiosks: sync.collector_public_key): {public}", file=out or sys.stdout)
    return 0


def main(argv: Optional[list] = None) -> int:
    argv = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--"]
    if argv == ["--keygen"]:
        return keygen()
    print("ashyq-kiosk collector: the collector is now its own service: install it with "
          "pip install '.[collector]' and run `ashyq-collector serve` (see docs/collector.md); "
          "`ashyq-kiosk collector --keygen` still prints a sealing keypair", file=sys.stderr)
    return 2
