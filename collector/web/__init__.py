"""The fleet page: technicians and venue managers see kiosks, their health
and the decisions per hour, server-rendered (Jinja2, inline CSS and SVG, no
script, no CDN), in the same Starlette app as the kiosks' API.

    app = build_app(storage, settings, routes=web.routes(storage, settings))
    # /fleet/ ... the pages (log in first), /metrics for Prometheus

The pages live in their own Starlette app mounted at /fleet, with their own
session middleware and error pages, so the API's JSON-only behaviour and its
edge checks stay exactly as they are.
"""
from __future__ import annotations

import os
import secrets
from typing import Optional

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route

from ..protocol import BadRequest
from ..storage import StorageError
from . import pages
from .auth import Refused
from .metrics import metrics_endpoint
from .throttle import LoginThrottle

PREFIX = "/fleet"
SESSION_HOURS = 12


def _when(value, now=None) -> str:
    if value is None:
        return "never"
    text = value.strftime("%Y-%m-%d %H:%M:%S UTC")
    if now is None:
        return text
    seconds = int((now - value).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{text} ({seconds // size} {unit} ago)"
    return f"{text} ({max(seconds, 0)} s ago)"


def templates() -> Environment:
    env = Environment(loader=PackageLoader("collector", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    return env


async def _refused(request: Request, exc: Exception):
    status = getattr(exc, "status", 400)
    if status == 401:
        return RedirectResponse(f"{PREFIX}/login", 303)
    return pages.render(request, "error.html", status, reason=str(exc))


async def _storage_down(request: Request, exc: Exception):
    return pages.render(request, "error.html", 503, reason="The database is not answering; try again.")


def fleet_app(storage, settings, *, https_only: Optional[bool] = None, refresh: int = 0) -> Starlette:
    """The pages as their own app (mounted at PREFIX). ``refresh``: seconds
    between automatic reloads of the lists (0: the heartbeat interval).
    ``https_only`` (default: env ASHYQ_FLEET_HTTPS_ONLY=1) keeps the session
    cookie off plain HTTP, for a collector behind TLS."""
    if https_only is None:
        https_only = os.environ.get("ASHYQ_FLEET_HTTPS_ONLY", "") == "1"
    secret = storage.web_secret("session", lambda: secrets.token_urlsafe(48))
    app = Starlette(
        routes=[
            Route("/", pages.fleet),
            Route("/login", pages.login_page, methods=["GET"]),
            Route("/login", pages.login, methods=["POST"]),
            Route("/logout", pages.logout, methods=["POST"]),
            Route("/kiosks/{kiosk_id}", pages.kiosk),
            Route("/kiosks/{kiosk_id}/maintenance", pages.maintenance, methods=["POST"]),
            Route("/venues/{venue}", pages.venue),
            Route("/venues/{venue}/counts.csv", pages.venue_csv),
            Route("/venues/{venue}/limit", pages.venue_limit, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=secret, session_cookie="ashyq_fleet",
                               max_age=SESSION_HOURS * 3600, same_site="strict", https_only=https_only)],
        exception_handlers={Refused: _refused, BadRequest: _refused, StorageError: _storage_down})
    app.state.storage, app.state.settings, app.state.prefix = storage, settings, PREFIX
    app.state.templates = templates()
    app.state.refresh = refresh or max(int(settings.heartbeat_interval), 1)
    app.state.occupancy = pages.venue_occupancy
    app.state.logins = LoginThrottle()
    return app


def routes(storage, settings, **options) -> list:
    """What ``build_app(routes=...)`` adds: /metrics, / -> the fleet, /fleet."""
    async def home(request: Request):
        return RedirectResponse(f"{PREFIX}/", 303)
    return [Route("/metrics", metrics_endpoint(storage, settings), methods=["GET"]),
            Route("/", home, methods=["GET"]),
            Mount(PREFIX, app=fleet_app(storage, settings, **options))]
