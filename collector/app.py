"""The collector's HTTP API as an ASGI app (Starlette): journals in, heartbeats
in, nothing personal out. docs/sync-protocol.md is the contract.

    app = build_app(open_storage("collector.sqlite"), Settings())
    uvicorn.run(app)       # collector.server.serve adds the connection bounds

Every request is checked in the order that costs an attacker most and us
least: the path, then the token (before one byte of the body is read), then
the declared length, then the body as it streams in, then the JSON's depth.
Each refusal is a 4xx with ``{"error": reason}``. The app keeps no state
between requests beyond a short token cache, so several instances can serve
one PostgreSQL behind a load balancer.

The fleet page (collector/web) plugs in through ``routes``: ``build_app(...,
routes=web.routes(storage, settings))``.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from typing import Any, Optional, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .health import heartbeat_answer
from .occupancy import PERIOD, report_of
from .ingest import Ingester
from .protocol import KIOSK_ID, BadRequest, content_length, parse_json, token_matches
from .storage import Storage, StorageError
from .storage.base import utc_now
from .tokens import TokenCache

log = logging.getLogger("ashyq.collector")


@dataclasses.dataclass
class Settings:
    max_body: int = 32 * 1024 * 1024   # 10,000 events of ~700 bytes fit four times over
    max_heartbeat: int = 64 * 1024
    max_depth: int = 16
    max_headers: int = 16 * 1024
    body_timeout: float = 30.0          # a body dripped slower than this is cut off (408)
    heartbeat_interval: float = 30.0
    heartbeat_flush: float = 1.0        # heartbeats are written together this often
    min_version: str = ""
    retention_days: int = 0             # 0: keep events for ever
    purge_every: float = 3600.0
    token_cache_seconds: float = 120.0  # a replaced token still works here for at most this
    ingest_workers: int = os.cpu_count() or 1  # processes parsing and storing batches (PostgreSQL)
    metrics_token_hash: str = ""        # set: /metrics asks for the bearer token with this hash


class HeartbeatWriter:
    """Heartbeats are answered at once and written together every ``every``
    seconds: one transaction for hundreds of kiosks instead of one each. A
    crash loses at most that last second of heartbeats, which the next round
    (30 s later) replaces; events are never written this way."""

    def __init__(self, storage: Storage, every: float, size: int = 5000):
        self.storage, self.every, self.size = storage, every, size
        self.pending: list[tuple] = []
        self.wake = asyncio.Event()

    def add(self, kiosk_id: str, beat: dict, at) -> None:
        self.pending.append((kiosk_id, beat, at))
        if len(self.pending) >= self.size:
            self.wake.set()

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            try:
                await run_in_threadpool(self.storage.record_heartbeats, batch)
            except StorageError as exc:
                log.error("%d heartbeats not stored: %s", len(batch), exc)
            except Exception:  # a bug here must not end every later round of heartbeats
                log.exception("%d heartbeats not stored", len(batch))

    async def run(self) -> None:
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.every)
                self.wake.clear()
                await self.flush()
        finally:
            await self.flush()  # shutdown: what was answered gets written


async def _authorise(request: Request) -> str:
    """The kiosk id from the path once its token is right; nothing read yet."""
    kiosk_id = request.path_params["kiosk_id"]
    if not KIOSK_ID.match(kiosk_id):
        raise BadRequest("no such endpoint: bad kiosk id", 404)
    stored = await request.app.state.tokens.get(kiosk_id)
    if not token_matches(request.headers.get("authorization"), stored):
        raise BadRequest("no token, or not this kiosk's token", 401)
    return kiosk_id


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, counted as it arrives: a declared or real size over ``limit``
    is refused (413) without holding more than ``limit`` bytes."""
    content_length(request.headers.get("content-length"), limit)
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BadRequest(f"body over {limit} bytes", 413)
                chunks.append(chunk)
    except TimeoutError:
        raise BadRequest(f"body not received within {timeout:g} s", 408) from None
    return b"".join(chunks)


async def post_events(request: Request) -> JSONResponse:
    kiosk_id = await _authorise(request)
    settings: Settings = request.app.state.settings
    raw = await _read_body(request, settings.max_body, settings.body_timeout)
    # Parsing 10,000 events is CPU work: elsewhere (collector/ingest.py), so heartbeats keep flowing.
    return JSONResponse(await request.app.state.ingester.ingest(kiosk_id, raw))


async def post_heartbeat(request: Request) -> JSONResponse:
    kiosk_id = await _authorise(request)
    settings: Settings = request.app.state.settings
    raw = await _read_body(request, settings.max_heartbeat, settings.body_timeout)
    beat = parse_json(raw, max_depth=settings.max_depth)
    if not isinstance(beat, dict):
        raise BadRequest("a heartbeat is a JSON object")
    counts = report_of(beat)  # checked before anything is stored
    storage, received = request.app.state.storage, utc_now()
    request.app.state.heartbeats.add(kiosk_id, beat, received)
    answer = heartbeat_answer(beat, interval=settings.heartbeat_interval,
                              min_version=settings.min_version)
    if counts is not None:  # the venue's total goes back to the door (issue 17)
        answer["occupancy"] = await run_in_threadpool(storage.record_occupancy, kiosk_id,
                                                      counts, received)
    return JSONResponse(answer)


async def venue_occupancy(request: Request) -> JSONResponse:
    """GET /api/venues/{venue}/occupancy[?period=YYYY-MM-DD] with the bearer
    token of one of the venue's kiosks: the figure for a screen or the fleet
    page (total, limit, per-door counts, the period's curve)."""
    venue = request.path_params["venue"]
    storage = request.app.state.storage
    token = request.headers.get("authorization")
    # No venue has a NUL in its name, and PostgreSQL would refuse to look one up (a 503).
    kiosks = await run_in_threadpool(storage.kiosks, venue) if "\x00" not in venue else []
    for kiosk in kiosks:
        if token_matches(token, await request.app.state.tokens.get(kiosk["kiosk_id"])):
            break
    else:
        raise BadRequest("no token, or not the token of a kiosk of this venue", 401)
    period = request.query_params.get("period")
    if period is not None and not PERIOD.match(period):
        raise BadRequest("period must be a date like 2026-11-18")
    figure = await run_in_threadpool(storage.venue_occupancy, venue, period)
    history = await run_in_threadpool(storage.occupancy_history, venue, figure["period"]) \
        if figure["period"] else []
    figure["history"] = [{"at": h["at"].isoformat(), "total": h["total"]} for h in history]
    for door in figure["doors"]:
        door["updated_at"] = door["updated_at"].isoformat() if door["updated_at"] else None
    return JSONResponse(figure)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


# ---- every failure is JSON --------------------------------------------------------

async def _refused(request: Request, exc: BadRequest) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _storage_down(request: Request, exc: StorageError) -> JSONResponse:
    log.error("storage failed: %s", exc)
    return JSONResponse({"error": "storage unavailable; send again"}, status_code=503)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "internal error; send again"}, status_code=500)


def _lifespan(settings: Settings, storage: Storage):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        await app.state.tokens.warm()
        await app.state.ingester.start()
        tasks = [asyncio.create_task(app.state.heartbeats.run())]
        if settings.retention_days:
            tasks.append(asyncio.create_task(_purge_forever(settings, storage)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(app.state.ingester.close)  # batches in flight finish first
    return lifespan


async def _purge_forever(settings: Settings, storage: Storage) -> None:
    """Retention: events and heartbeats older than ``retention_days`` go.
    Every instance may do it; a second delete of the same rows is a no-op."""
    import datetime as dt
    while True:
        try:
            cutoff = utc_now() - dt.timedelta(days=settings.retention_days)
            purged = await run_in_threadpool(storage.purge, cutoff)
            log.info("retention: purged %s before %s", purged, cutoff.isoformat())
        except StorageError as exc:
            log.error("retention purge failed: %s", exc)
        await asyncio.sleep(settings.purge_every)


API = [
    Route("/v1/kiosks/{kiosk_id}/events", post_events, methods=["POST"]),
    Route("/v1/kiosks/{kiosk_id}/heartbeat", post_heartbeat, methods=["POST"]),
    Route("/healthz", health, methods=["GET"]),
    Route("/api/venues/{venue}/occupancy", venue_occupancy, methods=["GET"]),
]


class HeaderLimit:
    """Headers over ``limit`` bytes in total get 431. h11 bounds only headers
    that arrive in pieces; a whole 60 KiB header block in one read passes it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and sum(len(n) + len(v) + 4 for n, v in scope["headers"]) > self.limit:
            response = JSONResponse({"error": f"headers over {self.limit} bytes"}, status_code=431)
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


def build_app(storage: Storage, settings: Optional[Settings] = None, *,
              routes: Sequence = (), middleware: Sequence = ()) -> Starlette:
    """The API on ``storage``; ``routes`` and ``middleware`` add the fleet page."""
    settings = settings or Settings()
    # Each handler takes its own error type; Starlette's annotation wants Exception.
    handlers: dict[Any, Any] = {BadRequest: _refused, HTTPException: _http_error,
                                StorageError: _storage_down, Exception: _internal}
    app = Starlette(routes=[*API, *routes],
                    middleware=[Middleware(HeaderLimit, limit=settings.max_headers), *middleware],
                    exception_handlers=handlers,
                    lifespan=_lifespan(settings, storage))
    app.state.storage, app.state.settings = storage, settings
    app.state.tokens = TokenCache(storage, settings.token_cache_seconds)
    app.state.heartbeats = HeartbeatWriter(storage, settings.heartbeat_flush)
    app.state.ingester = Ingester(storage, workers=settings.ingest_workers, max_depth=settings.max_depth)
    return app
