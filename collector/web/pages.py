"""The fleet page's handlers: read storage (in a worker thread), shape it with
``views``, render a template. Every page checks the user may see what it
shows; a kiosk or venue they may not see is "not found", not "forbidden",
so its existence is not given away.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..health import STATES
from ..storage.base import utc_now
from . import views
from .auth import Refused, csrf_token, current_user, log_in, login_required, read_form, safe_next
from .charts import hour_bars, occupancy_curve
from .throttle import Busy, LoginThrottle

HISTORY = 100   # heartbeats listed on a kiosk's page (about 50 minutes at 30 s)
HEADERS = {
    # Styles are inline and there is no script at all, so the policy can be strict.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store",
}


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    state = request.app.state
    user = getattr(request.state, "user", None)
    html = state.templates.get_template(template).render(
        prefix=state.prefix, user=user, csrf=csrf_token(request), now=utc_now(),
        refresh=state.refresh, may_maintain=user is not None and views.may_maintain(user), **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


async def _kiosks(request: Request, venue=None) -> list[dict]:
    user = request.state.user
    kiosks = await run_in_threadpool(request.app.state.storage.kiosks, venue)
    return [k for k in kiosks if views.sees_venue(user, k["venue"])]


# ---- logging in and out ---------------------------------------------------------

async def login_page(request: Request) -> Response:
    return render(request, "login.html", next=safe_next(request.query_params.get("next", ""),
                                                        request.app.state.prefix))


async def login(request: Request) -> Response:
    form = await read_form(request)
    prefix, username = request.app.state.prefix, form.get("username", "")
    again = dict(next=safe_next(form.get("next", ""), prefix), username=username)
    throttle: LoginThrottle = request.app.state.logins
    # Per address *and* name: behind a proxy every address is the proxy's
    # (unless serve --trusted-proxy), and one guesser must not lock out all.
    key = f"{request.client.host if request.client else ''} {username.casefold()[:128]}"
    try:
        async with throttle.turn():
            wait = throttle.wait(key)
            if wait:
                return render(request, "login.html", 429, error="Too many failed logins: "
                              f"try again in {math.ceil(wait / 60)} minutes.", **again)
            if await log_in(request, username, form.get("password", "")) is None:
                throttle.failed(key)
                return render(request, "login.html", 401, error="Wrong name or password.", **again)
            throttle.succeeded(key)
    except Busy:
        return render(request, "login.html", 429, error="Too many logins at once: try again in a minute.",
                      **again)
    return RedirectResponse(safe_next(form.get("next", ""), prefix), 303)


async def logout(request: Request) -> Response:
    await read_form(request)
    user = await current_user(request)
    if user is not None:  # a copied cookie must not outlive the logout
        await run_in_threadpool(request.app.state.storage.end_sessions, user["username"])
    request.session.clear()
    return RedirectResponse(f"{request.app.state.prefix}/login", 303)


# ---- pages ----------------------------------------------------------------------

@login_required
async def fleet(request: Request) -> Response:
    """One screen of the fleet, ranked and counted by the database."""
    user, state, now = request.state.user, request.app.state, utc_now()
    try:
        number, only = views.fleet_query(request.query_params.get("page"), request.query_params.get("state"))
    except views.BadQuery as exc:
        raise Refused(str(exc), 400) from None
    asked = {"now": now, "interval": state.settings.heartbeat_interval,
             "min_version": state.settings.min_version, "venues": views.visible_venues(user)}
    census = await run_in_threadpool(lambda: state.storage.fleet_census(**asked))
    totals = {s: census[s] for s in STATES}
    try:
        page = views.page_of(number, census[only] if only else sum(totals.values()), only)
    except views.BadQuery as exc:
        raise Refused(str(exc), 400) from None
    kiosks = await run_in_threadpool(lambda: state.storage.fleet(
        **asked, state=only, offset=page["offset"], limit=views.PAGE))
    page["rows"] = [views.fleet_row(k, now, asked["interval"], asked["min_version"]) for k in kiosks]
    return render(request, "fleet.html", page=page, totals=totals, venues=views.venues_of(user, page["rows"]))


async def _visible_kiosk(request: Request) -> dict:
    kiosk_id = _named(request, "kiosk_id", "kiosk")
    found = await run_in_threadpool(request.app.state.storage.kiosk, kiosk_id)
    if found is None or not views.sees_venue(request.state.user, found["venue"]):
        raise Refused(f"no kiosk {kiosk_id[:64]} that you may see", 404)
    return found


def _day(request: Request):
    try:
        return views.day_window(request.query_params.get("day"), utc_now())
    except views.BadQuery as exc:
        raise Refused(str(exc), 400) from None


@login_required
async def kiosk(request: Request) -> Response:
    state, now = request.app.state, utc_now()
    found = await _visible_kiosk(request)
    day, since, until = _day(request)
    beats = await run_in_threadpool(state.storage.heartbeats, found["kiosk_id"], None, HISTORY)
    counts = await run_in_threadpool(lambda: state.storage.counts(since=since, until=until,
                                                                  kiosk_id=found["kiosk_id"]))
    (row,) = views.fleet_rows([found], now, state.settings.heartbeat_interval, state.settings.min_version)
    series = views.hourly_series(counts, since, until)
    return render(request, "kiosk.html", kiosk=row, maintenance=found["maintenance"],
                  history=views.health_rows(beats, state.settings.min_version), series=series,
                  chart=hour_bars(series, title=f"Decisions per hour at {found['kiosk_id']}, {day}"),
                  totals=views.totals(counts), day=day, day_links=_day_links(day))


@login_required
async def maintenance(request: Request) -> Response:
    form = await read_form(request)
    if not views.may_maintain(request.state.user):
        raise Refused("only a technician or an admin may change maintenance", 403)
    found = await _visible_kiosk(request)
    await run_in_threadpool(request.app.state.storage.set_maintenance, found["kiosk_id"],
                            form.get("on") == "1")
    return RedirectResponse(f"{request.app.state.prefix}/kiosks/{found['kiosk_id']}", 303)


@login_required
async def venue_limit(request: Request) -> Response:
    """A venue manager sets the limit: people ("120") or a share of the
    capacity ("40%"); the doors hear it with their next heartbeat answer."""
    form = await read_form(request)
    venue = _named(request, "venue", "venue")
    if not views.sees_venue(request.state.user, venue) or not await _kiosks(request, venue):
        raise Refused(f"no venue {venue[:64]} that you may see", 404)
    if not views.may_set_limit(request.state.user, venue):
        raise Refused("only the venue's manager or an admin may set its limit", 403)
    try:
        capacity = int(form.get("capacity") or 0)
        await run_in_threadpool(request.app.state.storage.set_venue_limit, venue,
                                limit=(form.get("limit") or "").strip(), capacity=capacity,
                                by=request.state.user["username"])
    except ValueError as exc:
        said = str(exc)  # ours name the limit or the capacity; int()'s does not
        raise Refused(said if "limit" in said or "capacity" in said else "capacity must be a whole number",
                      400) from None
    return RedirectResponse(f"{request.app.state.prefix}/venues/{venue}", 303)


async def _venue_counts(request: Request):
    venue = _named(request, "venue", "venue")
    if not views.sees_venue(request.state.user, venue) or not await _kiosks(request, venue):
        raise Refused(f"no venue {venue[:64]} that you may see", 404)
    day, since, until = _day(request)
    counts = await run_in_threadpool(lambda: request.app.state.storage.counts(
        since=since, until=until, venue=venue))
    return venue, day, since, until, counts


@login_required
async def venue(request: Request) -> Response:
    name, day, since, until, counts = await _venue_counts(request)
    series = views.hourly_series(counts, since, until)
    kiosks = views.fleet_rows(await _kiosks(request, name), utc_now(),
                              request.app.state.settings.heartbeat_interval)
    return render(request, "venue.html", venue=name, day=day, day_links=_day_links(day), series=series,
                  chart=hour_bars(series, title=f"Admits, denies and staff actions per hour at {name}, {day}"),
                  totals=views.totals(counts), kiosks=kiosks,
                  occupancy=await request.app.state.occupancy(request, name),
                  may_set_limit=views.may_set_limit(request.state.user, name))


@login_required
async def venue_csv(request: Request) -> Response:
    name, day, _, _, counts = await _venue_counts(request)
    return Response(views.counts_csv(counts), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="ashyq-counts-{_safe_name(name)}-{day}.csv"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


async def venue_occupancy(request: Request, venue: str) -> Optional[dict]:
    """What templates/venue_occupancy.html shows: the latest day's total
    against the limit, per door, and the day's curve; None when no door of
    the venue counts and no limit is set."""
    storage = request.app.state.storage
    figure = await run_in_threadpool(storage.venue_occupancy, venue)
    if not figure["doors"] and figure.get("limit") is None:
        return None
    history = await run_in_threadpool(storage.occupancy_history, venue, figure["period"]) \
        if figure["period"] else []
    figure["curve"] = occupancy_curve(history, figure.get("limit"),
                                      title=f"People inside {venue} over {figure['period']}")
    return figure


def _named(request: Request, key: str, what: str) -> str:
    """A kiosk or venue named in the path; one with a NUL (``%00``) cannot
    exist, and PostgreSQL would refuse to even look it up."""
    name = request.path_params[key]
    if "\x00" in name:
        raise Refused(f"no {what} {name[:64]!r} that you may see", 404)
    return name


def _day_links(day: dt.date) -> dict:
    return {"previous": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1)}


def _safe_name(text: str) -> str:
    """A venue name fit for a file name and a header (any text is a venue)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:64] or "venue"
