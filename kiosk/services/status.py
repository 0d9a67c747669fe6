"""The status adapter for the Ashyq-compatible contract, over httpx.

Every way a lookup can go wrong becomes one :class:`~kiosk.core.errors.LookupFailed`
with a stable ``cause`` (the httpx way of translating at the boundary)::

    LookupFailed.cause
    ├── timeout         the whole lookup passed its deadline (any phase)
    ├── refused         could not connect (refused, no route, unknown host)
    ├── tls             certificate or handshake failure
    ├── network         any other transport error, a dropped connection
    ├── unauthorised    401 or 403: the token was refused
    ├── not-found       404: the service does not know the person
    ├── rate-limited    429
    ├── http-NNN        any other status than 200
    ├── not-json        a body that is not JSON
    ├── bad-body        JSON but not an object, too large once decoded, an
    │                   encoding not asked for, a Pass that is not true or
    │                   false, or about another IIN
    └── unknown-status  no Status, or not green/blue/yellow/red

Answers come as real services send them: compressed (gzip or deflate, the
encodings asked for, decoded here with a cap on the decoded size), with
field names and colours in any case, extra fields ignored, optional ones
missing. The service's ``Pass`` travels on the Status; ``Pass: false``
never admits (see :func:`kiosk.core.policy.decide`).

One deadline covers the whole lookup. Each phase's httpx timeout is the time
left when the request starts, which bounds connect and each single read; a
watchdog thread bounds the sum: at the deadline it shuts the connection's
socket down, so a server that drips its headers or body a byte at a time
cannot stretch the lookup however it paces them. Lookups through one client
run one at a time over one kept-alive connection (a door asks one person at a
time, and the watchdog then always knows which socket is in use).

    >>> with StatusClient("http://127.0.0.1:8080", "token") as client:   # doctest: +SKIP
    ...     client.lookup(identity).colour
    'green'
"""
from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from typing import Optional

import httpx

from kiosk.services.deadline import Watchdog
from kiosk.services.encodings import ACCEPT_ENCODING, BoundedDecoder
from kiosk.core.errors import ConfigError, LookupFailed
from kiosk.core.model import COLOURS, Identity, Status

PATH = "/v2/api/qrpass/employee/check"
MAX_BODY = 64 * 1024
PROBE_IIN = "871008401427"  # a published example; 200 or 404 both prove the token works
# Longer than httpx's 5 s so a door with a visitor every few seconds keeps its
# connection warm; shorter than common server idle limits (nginx: 75 s).
KEEPALIVE_SECONDS = 30.0
_HTTP_CAUSES = {401: "unauthorised", 403: "unauthorised", 404: "not-found", 429: "rate-limited"}


class StatusClient:
    """Asks the status service for a person's colour, within one deadline.

    Keep one client for the kiosk's life and close it at shutdown.
    """

    def __init__(self, base_url: str, token: str, *, deadline: float = 1.5, type: str = "entry",
                 venue_bin: str = "", building_rka: str = "", verify_tls: bool = True,
                 ca_bundle: str = "", language: str = "kk"):
        url = httpx.URL(base_url.rstrip("/") + PATH)
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigError([f"status.base_url: {base_url!r} is not an http:// or https:// URL"])
        self.url = url
        self.deadline = float(deadline)
        self.fields = {"Lang": language, "Type": type, "BIN": venue_bin, "BuildingRKA": building_rka}
        self._lock = threading.Lock()
        self._watchdog = Watchdog()
        # One connection, kept alive: a visitor should not pay for the TCP and
        # TLS handshakes. Proxies and CA paths come from config, not from the
        # environment (trust_env=False), so the service behaves as tested.
        transport = httpx.HTTPTransport(
            verify=_ssl_context(verify_tls, ca_bundle), trust_env=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1,
                                keepalive_expiry=KEEPALIVE_SECONDS),
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])  # one small request
        # Ask only for the encodings BoundedDecoder decodes (httpx would add
        # br or zstd whenever those packages happen to be installed).
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token.strip()}",
                                            "Accept-Encoding": ACCEPT_ENCODING},
                                   transport=transport, trust_env=False)

    @classmethod
    def from_config(cls, cfg, secrets, language=None) -> "StatusClient":
        """The client for ``cfg.status`` and ``secrets.status_token``."""
        s = cfg.status
        # An exit door's scans are exits, as Ashyq counted them: Type "exit".
        kind = "exit" if cfg.door.kind == "exit" else s.type
        return cls(s.base_url, secrets.status_token, deadline=s.deadline, type=kind,
                   venue_bin=s.venue_bin, building_rka=s.building_rka, verify_tls=s.verify_tls,
                   ca_bundle=s.ca_bundle, language=language or cfg.kiosk.language)

    def body(self, identity: Identity) -> dict:
        """The request body: by IIN, or by passport number and country."""
        if identity.iin:
            return {"IIN": identity.iin, **self.fields}
        return {"Passport": identity.number, "Country": identity.country or "", **self.fields}

    def lookup(self, identity: Identity) -> Status:
        """The person's colour; raises only LookupFailed."""
        code, raw = self._post(self.body(identity))
        if code != 200:
            raise LookupFailed(_HTTP_CAUSES.get(code, f"http-{code}"), f"status service answered {code}")
        return parse_answer(raw, asked_iin=identity.iin)

    def probe(self) -> None:
        """Reachable and the token accepted (for ``doctor``): a fixed IIN
        answered with 200 or 404 proves both; raises LookupFailed otherwise."""
        code, _ = self._post({"IIN": PROBE_IIN, **self.fields})
        if code not in (200, 404):
            message = "the token was refused" if code in (401, 403) else f"answered {code}"
            raise LookupFailed(_HTTP_CAUSES.get(code, f"http-{code}"), f"status service {message}")

    def _post(self, body: dict) -> tuple[int, bytes]:
        """(status code, body) within the deadline, or LookupFailed."""
        end = time.monotonic() + self.deadline
        if not self._lock.acquire(timeout=self.deadline):
            raise LookupFailed("timeout", "another lookup held the connection past the deadline")
        try:
            self._watchdog.arm(end)
            try:
                return self._exchange(body, end)
            except httpx.HTTPError as exc:
                error = _translate(exc, self.deadline)
            finally:
                # Past the deadline the lookup timed out, whatever the cut
                # socket raised or whatever arrived at the last moment.
                if self._watchdog.disarm():
                    raise LookupFailed("timeout", f"no full answer within {self.deadline} s") from None
            raise error
        finally:
            self._lock.release()

    def _exchange(self, body: dict, end: float) -> tuple[int, bytes]:
        left = max(end - time.monotonic(), 0.001)
        request = self.client.build_request(
            "POST", self.url, json=body, timeout=httpx.Timeout(left), extensions={"trace": self._trace})
        response = self.client.send(request, stream=True)
        try:
            # Raw bytes decoded here, not iter_bytes(): the cap must hold for
            # the decoded size while decoding, not after a bomb has expanded.
            decoder = BoundedDecoder(response.headers.get("Content-Encoding"), MAX_BODY)
            for chunk in response.iter_raw():
                decoder.feed(chunk)
            return response.status_code, decoder.finish()
        finally:
            response.close()

    def _trace(self, event: str, info: dict) -> None:
        # httpcore reports each new connection (and its TLS wrapper) here:
        # the socket the watchdog must shut down if the deadline passes.
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self._watchdog.watch(info["return_value"].get_extra_info("socket"))

    def close(self) -> None:
        """Close the connection and stop the watchdog thread."""
        self.client.close()
        self._watchdog.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _ssl_context(verify_tls: bool, ca_bundle: str):
    if not verify_tls:
        return False
    if not ca_bundle:
        return httpx.create_ssl_context(trust_env=False)
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError([f"status.ca_bundle: cannot load {ca_bundle}: {exc}"]) from None


def _translate(exc: httpx.HTTPError, deadline: float) -> LookupFailed:
    """One httpx error -> one LookupFailed with a stable cause."""
    if isinstance(exc, httpx.TimeoutException):
        return LookupFailed("timeout", f"no answer within {deadline} s")
    if _is_tls(exc):
        return LookupFailed("tls", f"TLS failed: {exc}")
    if isinstance(exc, httpx.ConnectError):
        return LookupFailed("refused", f"cannot connect: {exc}")
    return LookupFailed("network", f"transport: {exc or type(exc).__name__}")


def _is_tls(exc: BaseException) -> bool:
    seen: Optional[BaseException] = exc
    while seen is not None:
        if isinstance(seen, (ssl.SSLError, ssl.CertificateError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def parse_answer(raw: bytes, asked_iin: Optional[str] = None) -> Status:
    """A 200 body -> Status, or LookupFailed with the reason it is unusable.

    An answer that names another IIN than the one asked is refused: an open
    turnstile on someone else's colour is worse than no answer.

    >>> parse_answer(b'{"Status": "green", "Message": "Welcome"}')
    Status(colour='green', message='Welcome', cached=False, passes=None)
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise LookupFailed("not-json", "answer is not JSON") from None
    if not isinstance(data, dict):
        raise LookupFailed("bad-body", "answer is not a JSON object")
    # Field names without regard to case ("status", "STATUS"); should a
    # name come twice in different cases, the first one wins.
    fields: dict = {}
    for name, value in data.items():
        fields.setdefault(name.lower(), value)
    echoed = fields.get("iin")
    if asked_iin and isinstance(echoed, (str, int)) and str(echoed).strip() \
            and str(echoed).strip().zfill(12) != asked_iin:
        raise LookupFailed("bad-body", "answer is about another IIN")
    colour = fields.get("status")
    if not isinstance(colour, str) or colour.strip().lower() not in COLOURS:
        raise LookupFailed("unknown-status", f"Status {str(colour)[:20]!r} is not a known colour")
    message = fields.get("message") or fields.get("statusdescription") or ""
    return Status(colour.strip().lower(), message=str(message)[:200],
                  passes=_pass(fields.get("pass")))


def _pass(value) -> Optional[bool]:
    """The answer's Pass: True, False, or None when absent. Anything else
    is an answer we cannot read, not a guess either way."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise LookupFailed("bad-body", f"Pass {str(value)[:20]!r} is neither true nor false")
