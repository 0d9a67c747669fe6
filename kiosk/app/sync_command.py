"""``ashyq-kiosk sync [--status]``: the technician's one-off upload.

It lives with the application, not the sync service, because it builds the
journal from the configuration the way the daemon does.
"""
from __future__ import annotations

import sys

from kiosk.app.wiring import build_journal
from kiosk.core.errors import JournalError, SyncError
from kiosk.services.sync import Syncer


def progress_bar(done: int, total: int, out=None, width: int = 30) -> None:
    """``synced 1500/3000 [===============               ]`` on one line."""
    out = out or sys.stderr
    filled = width * min(done, total) // max(total, 1)
    print(f"\rsynced {done}/{total} [{'=' * filled}{' ' * (width - filled)}]", end="", file=out,
          flush=True)


def main_sync(cfg, secrets, *, status_only: bool = False) -> int:
    """``ashyq-kiosk sync [--status]``: one sync with a progress bar, or the
    backlog. Safe while the daemon runs: both may send a row, and the
    collector counts the second as a duplicate."""
    try:
        journal, _ = build_journal(cfg, secrets)
    except JournalError as exc:
        print(f"sync: {exc}", file=sys.stderr)
        return 1
    try:
        if status_only or not cfg.sync.url:
            print(f"backlog: {journal.backlog()} decisions not yet at the collector; "
                  f"last synced: {journal.last_synced() or 'never'}")
            if not cfg.sync.url:
                print("sync.url is not set: nothing to sync to", file=sys.stderr)
                return 0 if status_only else 1
            return 0
        syncer = Syncer(journal, cfg.sync.url, cfg.kiosk.id, secrets.sync_token,
                        batch_size=cfg.sync.batch_size)
        try:
            sent, stored, duplicates = syncer.sync_once(progress=progress_bar)
        except SyncError as exc:
            print(f"\nsync failed: {exc}; backlog {journal.backlog()}", file=sys.stderr)
            return 1
        finally:
            syncer.client.close()
        print(f"\nsynced {stored + duplicates} decisions ({stored} new, {duplicates} already "
              f"there); backlog {journal.backlog()}", file=sys.stderr)
        return 0
    except JournalError as exc:
        print(f"sync: {exc}", file=sys.stderr)
        return 1
    finally:
        journal.close()
