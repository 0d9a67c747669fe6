"""Where the collector keeps things: ``open_storage(url)`` picks the backend.

    sqlite:///var/lib/ashyq-collector/collector.sqlite   (or a plain path)
    postgresql://user@host/db   or   postgresql:///db?host=/run/postgresql
"""
from __future__ import annotations

from .base import EVENT_COLUMNS, Storage, StorageError

__all__ = ["EVENT_COLUMNS", "Storage", "StorageError", "open_storage"]


def open_storage(url: str, **options) -> Storage:
    """The backend for ``url``, migrated to the latest schema."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStorage
        storage: Storage = PostgresStorage(url, **options)
    else:
        from .sqlite import SqliteStorage
        storage = SqliteStorage(url[len("sqlite://"):] if url.startswith("sqlite://") else url)
    try:
        storage.migrate()
    except BaseException:
        storage.close()
        raise
    return storage
