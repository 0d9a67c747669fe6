"""Who is asking: logins, the signed session cookie, roles and CSRF.

The session (Starlette's SessionMiddleware: an itsdangerous-signed cookie,
so any instance can read it) holds the user's name, a fingerprint of their
password hash and session key (a new password or logging out ends every old
session) and the CSRF token every form carries back. The user is read from
storage on each request, so a removed user or a changed role takes effect at
once.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Optional
from urllib.parse import parse_qsl, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..app import _read_body
from .passwords import DECOY, verify_password

MAX_FORM = 16 * 1024       # a login or a maintenance switch; nothing bigger is posted
FORM_SECONDS = 10.0


class Refused(Exception):
    """The request is refused with ``status``; the page says ``reason``."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.status = status


def fingerprint(user: dict) -> str:
    """What a session must match: a new password or a logout (a new
    session key) ends every session made before."""
    return hashlib.sha256((user["password_hash"] + user.get("session_key", "")).encode()).hexdigest()[:16]


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use (the login form too)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


async def read_form(request: Request) -> dict:
    """A urlencoded form, bounded, whose ``csrf`` field matches the session's:
    a page on another site cannot post here in the user's name."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise Refused("forms are sent as application/x-www-form-urlencoded", 415)
    raw = await _read_body(request, MAX_FORM, FORM_SECONDS)
    try:
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError):
        raise Refused("the form is not readable", 400) from None
    if any("\x00" in key or "\x00" in value for key, value in form.items()):
        raise Refused("a form field holds a NUL character (%00)", 400)
    expected = request.session.get("csrf")
    if not expected or not hmac.compare_digest(form.get("csrf", "").encode(), expected.encode()):
        raise Refused("the form expired or came from another site: reload the page and try again", 403)
    return form


async def current_user(request: Request) -> Optional[dict]:
    name = request.session.get("user")
    if not name:
        return None
    user = await run_in_threadpool(request.app.state.storage.user, name)
    if user is None or request.session.get("pw") != fingerprint(user):
        request.session.pop("user", None)
        return None
    return user


def login_required(handler):
    """The handler gets ``request.state.user``; a stranger is sent to log in."""
    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            if request.method != "GET":
                raise Refused("log in first", 401)
            return RedirectResponse(f"{request.app.state.prefix}/login?next={quote(request.url.path)}", 303)
        request.state.user = user
        return await handler(request)
    return guarded


def safe_next(target: str, prefix: str) -> str:
    """Only a path of ours: ``next=//evil.example`` must not become a redirect."""
    if target.startswith(prefix + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return prefix + "/"


async def log_in(request: Request, username: str, password: str) -> Optional[dict]:
    """The user when the password is right; the session is renewed (new
    CSRF token) so a token seen before login is worth nothing after."""
    user = await run_in_threadpool(request.app.state.storage.user, username[:128])
    stored = user["password_hash"] if user else DECOY
    good = await run_in_threadpool(verify_password, password, stored)
    if not (user and good):
        return None
    request.session.clear()
    request.session.update({"user": user["username"], "pw": fingerprint(user),
                            "csrf": secrets.token_urlsafe(24)})
    return user
