"""The status adapter for the Ashyq-compatible contract, over httpx.

Every way a lookup can go wrong becomes one :class:`~kiosk.errors.LookupFailed`
with a stable ``cause`` (the httpx way of translating at the boundary)::

    LookupFailed.cause
    ├── timeout         the whole lookup passed its deadline (any phase)
    ├── refused         nothing listens (connection refused, no route)
    ├── tls             certificate or handshake failure
    ├── network         any other transport error, a dropped connection
    ├── unauthorised    401: the token was refused
    ├── not-found       404: the service does not know the person
    ├── rate-limited    429
    ├── http-NNN        any other status than 200
    ├── not-json        a body that is not JSON
    ├── bad-body        JSON, but not an object
    └── unknown-status  no Status, or not green/blue/yellow/red

One deadline covers the whole lookup: every phase's timeout is the deadline,
and the body is read in chunks against the same clock, so a server that drips
a byte at a time is cut off at the first chunk past it. (A read that stalls
after a late chunk can still overrun by one read timeout; the state machine's
own backstop decides at the deadline regardless, so the door never waits.)

    >>> client = StatusClient("http://127.0.0.1:8080", "token")   # doctest: +SKIP
    >>> client.lookup(identity).colour                             # doctest: +SKIP
    'green'
"""
from __future__ import annotations

import json
import socket
import ssl
import time

import httpx

from .errors import LookupFailed
from .model import COLOURS, Identity, Status

PATH = "/v2/api/qrpass/employee/check"
MAX_BODY = 64 * 1024
PROBE_IIN = "871008401427"  # a published example; 200 or 404 both prove the token works


class StatusClient:
    def __init__(self, base_url: str, token: str, *, deadline: float = 1.5, type: str = "entry",
                 venue_bin: str = "", building_rka: str = "", verify_tls: bool = True,
                 ca_bundle: str = "", language: str = "kk"):
        self.url = base_url.rstrip("/") + PATH
        self.deadline = deadline
        self.fields = {"Lang": language, "Type": type, "BIN": venue_bin, "BuildingRKA": building_rka}
        verify = (ca_bundle or True) if verify_tls else False
        # One client for the kiosk's life: a kept-alive connection saves the
        # TCP and TLS handshakes on every visitor.
        transport = httpx.HTTPTransport(verify=verify, socket_options=[
            (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])  # a lookup is one small request
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, verify=verify,
                                   transport=transport,
                                   limits=httpx.Limits(max_keepalive_connections=2))

    @classmethod
    def from_config(cls, cfg, secrets, language=None) -> "StatusClient":
        s = cfg.status
        return cls(s.base_url, secrets.status_token, deadline=s.deadline, type=s.type,
                   venue_bin=s.venue_bin, building_rka=s.building_rka, verify_tls=s.verify_tls,
                   ca_bundle=s.ca_bundle, language=language or cfg.kiosk.language)

    def body(self, identity: Identity) -> dict:
        if identity.iin:
            return {"IIN": identity.iin, **self.fields}
        return {"Passport": identity.number, "Country": identity.country or "", **self.fields}

    def lookup(self, identity: Identity) -> Status:
        code, data = self._post(self.body(identity))
        if code != 200:
            raise LookupFailed(_HTTP_CAUSES.get(code, f"http-{code}"), f"status service answered {code}")
        return parse_answer(data)

    def probe(self) -> None:
        """Reachable and the token accepted (for ``doctor``): 200 or 404 is fine."""
        code, _ = self._post({"IIN": PROBE_IIN, **self.fields})
        if code == 401:
            raise LookupFailed("unauthorised", "the status service refused the token")
        if code not in (200, 404):
            raise LookupFailed(f"http-{code}", f"status service answered {code}")

    def _post(self, body: dict) -> tuple[int, bytes]:
        end = time.monotonic() + self.deadline
        left = lambda: max(end - time.monotonic(), 0.001)
        try:
            request = self.client.build_request("POST", self.url, json=body,
                                                timeout=httpx.Timeout(left()))
            response = self.client.send(request, stream=True)
            try:
                chunks, size = [], 0
                for chunk in response.iter_raw():
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise LookupFailed("bad-body", "answer is too large")
                    chunks.append(chunk)
                    if time.monotonic() > end:
                        raise LookupFailed("timeout", f"no full answer within {self.deadline} s")
                return response.status_code, b"".join(chunks)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise LookupFailed("timeout", f"no answer within {self.deadline} s") from None
        except httpx.ConnectError as exc:
            cause = "tls" if _is_tls(exc) else "refused"
            raise LookupFailed(cause, f"cannot connect: {exc}") from None
        except httpx.TransportError as exc:
            raise LookupFailed("tls" if _is_tls(exc) else "network", f"transport: {exc}") from None

    def close(self) -> None:
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_HTTP_CAUSES = {401: "unauthorised", 403: "unauthorised", 404: "not-found", 429: "rate-limited"}


def _is_tls(exc: Exception) -> bool:
    seen = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in type(seen).__name__ or "ssl" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def parse_answer(raw: bytes) -> Status:
    """A 200 body -> Status, or the cause it is unusable."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise LookupFailed("not-json", "answer is not JSON") from None
    if not isinstance(data, dict):
        raise LookupFailed("bad-body", "answer is not a JSON object")
    colour = data.get("Status")
    if not isinstance(colour, str) or colour.lower() not in COLOURS:
        raise LookupFailed("unknown-status", f"Status {str(colour)[:20]!r} is not a known colour")
    message = data.get("Message") or data.get("StatusDescription") or ""
    return Status(colour.lower(), message=str(message)[:200])
