"""The fleet list, written once for both backends (storage/adapters.py):
kiosks ranked, counted and paged by the database, so a screen of the list
costs about the same with ten kiosks or ten thousand.

The rank is ``health.RANK``, from what each heartbeat left in the kiosks
table (``health.summary``) and what the reader brings: the time, the
heartbeat interval, the minimum version. The rules themselves live in
health.py; tests/test_fleet_rank.py checks that both backends rank every
kind of heartbeat as those rules do.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

from .adapters import Adapters
from ..health import MISSED, RANK, STATES, SYNC_WARNING, summary, version_order

KIOSK = "kiosk_id, venue, name, maintenance, created_at, last_seen, last_heartbeat"
RANKED = ("SELECT kiosk_id, venue, backlog, CASE "
          f"WHEN maintenance <> 0 THEN {RANK['maintenance']} "
          f"WHEN last_seen IS NULL THEN {RANK['unknown']} "
          f"WHEN last_seen < ? THEN {RANK['offline']} "
          f"WHEN troubled <> 0 OR last_sync < ? OR version_order < ? THEN {RANK['troubled']} "
          f"ELSE {RANK['online']} END AS rank FROM kiosks")
# Which ranks each state of the list's filter covers: an online kiosk with a
# problem is still online.
RANKS_OF = {state: ((RANK["troubled"], RANK["online"]) if state == "online" else (RANK[state],))
            for state in STATES}


class FleetStore(Adapters):
    """Kiosks as the fleet page and /metrics read them."""


    def _select(self, sql: str, args: Sequence = ()) -> list[dict]:
        return self._read(sql.replace("?", self.param), args)

    def _kiosk(self, row: dict) -> dict:
        row.update(maintenance=bool(row["maintenance"]), created_at=self._unstamp(row["created_at"]),
                   last_seen=self._unstamp(row["last_seen"]), last_heartbeat=self._unjson(row["last_heartbeat"]))
        return row

    def kiosks(self, venue: Optional[str] = None) -> list[dict]:
        """Every kiosk (of one venue): kiosk_id, venue, name, maintenance,
        created_at, last_seen, last_heartbeat (dict or None). No token hashes."""
        where, args = (" WHERE venue = ?", (venue,)) if venue is not None else ("", ())
        return [self._kiosk(r) for r in self._select(f"SELECT {KIOSK} FROM kiosks{where} ORDER BY kiosk_id",
                                                      args)]

    def kiosk(self, kiosk_id: str) -> Optional[dict]:
        """One kiosk as ``kiosks`` lists it, None if unknown."""
        rows = self._select(f"SELECT {KIOSK} FROM kiosks WHERE kiosk_id = ?", (kiosk_id,))
        return self._kiosk(rows[0]) if rows else None

    def _ranked(self, now: dt.datetime, interval: float, min_version: str,
                venues: Optional[Sequence[str]]) -> tuple[str, list]:
        args = [self._stamp(now - dt.timedelta(seconds=MISSED * interval)), self._stamp(now - SYNC_WARNING),
                version_order(min_version)]
        if venues is None:
            return RANKED, args
        return f"{RANKED} WHERE venue IN ({', '.join('?' * len(venues))})", args + list(venues)

    def fleet(self, *, now: dt.datetime, interval: float, min_version: str = "",
              venues: Optional[Sequence[str]] = None, state: Optional[str] = None,
              offset: int = 0, limit: int = 100) -> list[dict]:
        """One screen of the list, problems first (then by venue and id):
        each kiosk as ``kiosks`` lists it, with its ``rank``. ``venues``:
        only these (a manager's); ``state``: only kiosks in that state."""
        if venues is not None and not venues:
            return []
        ranked, args = self._ranked(now, interval, min_version, venues)
        where = ""
        if state:
            where = f" WHERE rank IN ({', '.join(str(r) for r in RANKS_OF[state])})"
        # Rank and sort the narrow rows, then read only one screen's wide ones.
        rows = self._select(
            f"SELECT {', '.join('k.' + c.strip() for c in KIOSK.split(','))}, p.rank FROM "
            f"(SELECT kiosk_id, venue, rank FROM ({ranked}) AS r{where} "
            "ORDER BY rank, venue, kiosk_id LIMIT ? OFFSET ?) AS p "
            "JOIN kiosks k ON k.kiosk_id = p.kiosk_id ORDER BY p.rank, p.venue, p.kiosk_id",
            [*args, limit, offset])
        return [self._kiosk(r) for r in rows]

    def fleet_census(self, *, now: dt.datetime, interval: float, min_version: str = "",
                     venues: Optional[Sequence[str]] = None) -> dict:
        """Kiosks per state (online, offline, unknown, maintenance), those
        online with a problem (troubled), and the backlogs summed."""
        census = {state: 0 for state in (*STATES, "troubled", "backlog")}
        if venues is not None and not venues:
            return census
        ranked, args = self._ranked(now, interval, min_version, venues)
        for row in self._select(f"SELECT rank, count(*) AS n, sum(backlog) AS backlog FROM ({ranked}) AS r "
                                "GROUP BY rank", args):
            for state, ranks in RANKS_OF.items():
                census[state] += row["n"] if row["rank"] in ranks else 0
            census["troubled"] += row["n"] if row["rank"] == RANK["troubled"] else 0
            census["backlog"] += int(row["backlog"] or 0)
        return census

    def decision_totals(self) -> dict[str, int]:
        """Events ever counted, by decision (kept past retention), for /metrics."""
        return {r["decision"]: int(r["n"]) for r in self._select(
            "SELECT decision, sum(n) AS n FROM decision_totals GROUP BY decision ORDER BY decision")}

    def _summarise_old_heartbeats(self) -> int:
        """Fill in the summary of kiosks whose latest heartbeat came before
        the summary columns did (migration 4); a newer heartbeat's is kept."""
        def work(conn):
            rows = self._all(conn, "SELECT kiosk_id, last_heartbeat FROM kiosks "
                             "WHERE version_order IS NULL AND last_heartbeat IS NOT NULL")
            for row in rows:
                found = summary(self._unjson(row["last_heartbeat"]) or {})
                self._exec(conn, "UPDATE kiosks SET troubled = ?, last_sync = ?, version_order = ?, "
                           "backlog = ? WHERE kiosk_id = ? AND version_order IS NULL",
                           (found["troubled"], self._stamp(found["last_sync"]), found["version_order"],
                            found["backlog"], row["kiosk_id"]))
            return len(rows)
        return self._tx(work)


def heartbeat_columns(data: dict) -> tuple:
    """(troubled, last_sync, version_order, backlog) of a heartbeat, as the
    kiosks table keeps them beside it."""
    found = summary(data)
    return found["troubled"], found["last_sync"], found["version_order"], found["backlog"]
