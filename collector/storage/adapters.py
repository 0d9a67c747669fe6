"""The few adapters each backend provides, so the mixins (storage/fleet.py,
storage/occupancy.py) write their SQL once, with ``?`` placeholders, for
both databases. Declarations only: the backends define them.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence


class Adapters:
    if TYPE_CHECKING:
        param: str  # the driver's placeholder

        def _read(self, sql: str, args: Sequence = ()) -> list[dict]: ...
        def _tx(self, work: Callable[[Any], Any]) -> Any: ...    # work(conn) in one committed transaction
        @staticmethod
        def _all(db: Any, sql: str, args: Any = ()) -> list[dict]: ...  # ``?`` placeholders
        @staticmethod
        def _exec(db: Any, sql: str, args: Any = ()) -> int: ...
        @staticmethod
        def _stamp(value: Optional[dt.datetime]) -> Any: ...   # a time as the database keeps it
        @staticmethod
        def _unstamp(value: Any, /) -> Optional[dt.datetime]: ...
        @staticmethod
        def _unjson(value: Any, /) -> Any: ...
