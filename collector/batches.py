"""Several kiosks' batches stored together, each answered as if alone.

Under load the ingester hands a worker every batch that arrived while the
workers were busy: one statement and one commit for all of them, instead of
one each (10,000 kiosks syncing every 30 s are 333 commits a second).
Each batch is still judged on its own: a malformed one is refused without
touching the others, and every kiosk hears exactly which of its ids are
newly stored and which were there already.

    >>> from collector.storage import open_storage
    >>> for answer in answer_batches([("door-1", b'{"events": [{"id": "a"}, {"id": "b"}]}'),
    ...                               ("door-2", b"nonsense"),
    ...                               ("door-1", b'{"events": [{"id": "b"}, {"id": "c"}]}')],
    ...                              open_storage(":memory:")):
    ...     print(answer)
    {'stored': ['a', 'b'], 'duplicates': []}
    body is not JSON: Expecting value: line 1 column 1 (char 0)
    {'stored': ['c'], 'duplicates': ['b']}
"""
from __future__ import annotations

from typing import Sequence, Union

from .protocol import MAX_DEPTH, BadRequest, event_rows, parse_json
from .storage import Storage
from .storage.base import utc_now

Answer = Union[dict, BadRequest]


def answer_batches(batches: Sequence[tuple[str, bytes]], storage: Storage,
                   max_depth: int = MAX_DEPTH) -> list[Answer]:
    """(kiosk_id, raw body) in, one answer per batch out: {"stored": ids,
    "duplicates": ids} or the BadRequest refusing it. Committed before it
    returns (a 200 means durable, docs/sync-protocol.md); raises
    StorageError when nothing could be stored."""
    received = utc_now()
    parsed: list[Union[list[tuple], BadRequest]] = []
    for kiosk_id, raw in batches:
        try:
            parsed.append(event_rows(kiosk_id, parse_json(raw, max_depth=max_depth), received))
        except BadRequest as refused:
            parsed.append(refused)
    # An event in two batches at once (a kiosk resending while its first try
    # is still here) is stored once, credited to the first.
    owner: dict[tuple[str, str], int] = {}
    combined = []
    for number, rows in enumerate(parsed):
        for row in rows if isinstance(rows, list) else ():
            if owner.setdefault((row[0], row[1]), number) == number:
                combined.append(row)
    new = set(storage.ingest_pairs(combined)) if combined else set()
    answers: list[Answer] = []
    for number, rows in enumerate(parsed):
        if isinstance(rows, BadRequest):
            answers.append(rows)
            continue
        stored = [row[1] for row in rows if (row[0], row[1]) in new and owner[(row[0], row[1])] == number]
        mine = set(stored)
        answers.append({"stored": stored, "duplicates": [row[1] for row in rows if row[1] not in mine]})
    return answers

