"""Fleet page passwords, hashed with the standard library's scrypt.

    >>> stored = hash_password("correct horse")
    >>> stored.startswith("scrypt$16384$8$1$"), verify_password("correct horse", stored)
    (True, True)
    >>> verify_password("wrong", stored), verify_password("x", "not a hash")
    (False, False)

The cost parameters travel inside the stored text, so raising them later
leaves every older hash verifiable.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2 ** 14, 8, 1     # ~16 MiB and a few tens of ms per try: slow for a guesser
SALT_BYTES, KEY_BYTES = 16, 32
MAX_PASSWORD = 1024         # scrypt on a megabyte "password" is a cheap way to burn our CPU
MIN_PASSWORD = 10


class WeakPassword(ValueError):
    """The password is refused before it is stored; the text says why."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=KEY_BYTES)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$key`` (base64), with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` made ``stored``; False for anything malformed."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt" or len(password) > MAX_PASSWORD:
            return False
        expected = base64.b64decode(key, validate=True)
        given = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(given, expected)


# Compared against when the user does not exist, so a login takes as long
# for an unknown name as for a wrong password (no user enumeration by timing).
DECOY = hash_password(secrets.token_urlsafe(16))
