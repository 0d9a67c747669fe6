"""Numbers at rest: a keyed hash to recognise a person, a sealed box only the
collector can open. The kiosk itself can never read a number back.

    >>> private, public = generate_keypair()
    >>> unseal(seal("871008401427", public), private)
    '871008401427'
    >>> len(person_hash("871008401427", b"kiosk secret"))
    32
"""
from __future__ import annotations

import base64
import hashlib
import os

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .errors import JournalError


def person_hash(number: str, key: bytes) -> str:
    """The same person gives the same hash on this kiosk, and a stolen
    journal cannot be searched for a number without the kiosk's key."""
    return hashlib.blake2b(number.encode(), key=key[:64], digest_size=16).hexdigest()


def load_or_create_key(path: str) -> bytes:
    """The per-kiosk hashing key, created 0600 on first use."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        pass
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def generate_keypair() -> tuple[str, str]:
    """(private, public), base64: the collector keeps the first, kiosks get the second."""
    private = PrivateKey.generate()
    encode = lambda raw: base64.b64encode(bytes(raw)).decode()
    return encode(private), encode(private.public_key)


def seal(number: str, public_key_b64: str) -> str:
    try:
        box = SealedBox(PublicKey(base64.b64decode(public_key_b64)))
    except (ValueError, TypeError, CryptoError) as exc:
        raise JournalError(f"collector public key is not a base64 Curve25519 key: {exc}") from None
    return base64.b64encode(box.encrypt(number.encode())).decode()


def unseal(sealed_b64: str, private_key_b64: str) -> str:
    box = SealedBox(PrivateKey(base64.b64decode(private_key_b64)))
    return box.decrypt(base64.b64decode(sealed_b64)).decode()
