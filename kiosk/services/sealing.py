"""Numbers at rest: a keyed hash to recognise a person, a sealed box only the
collector can open. The kiosk itself can never read a number back.

    >>> private, public = generate_keypair()
    >>> unseal(seal("871008401427", public), private)
    '871008401427'
    >>> len(person_hash("871008401427", b"kiosk secret"))
    32

``person_hash`` is keyed BLAKE2b: without the kiosk's key, a stolen journal
cannot be searched by hashing every possible IIN (a birth date, a digit and
a serial: a few billion candidates, minutes of work against an unkeyed hash).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from kiosk.core.errors import JournalError

KEY_BYTES = 32
MIN_KEY_BYTES = 16  # a shorter key file is a truncated one, not a key


def person_hash(number: str, key: bytes) -> str:
    """The same person gives the same hash on this kiosk, and a stolen
    journal cannot be searched for a number without the kiosk's key.
    BLAKE2b takes at most 64 key bytes; longer secrets are cut there."""
    return hashlib.blake2b(number.encode(), key=key[:64], digest_size=16).hexdigest()


def load_or_create_key(path: str) -> bytes:
    """The per-kiosk hashing key, created 0600 on first use.

    Written to a temporary file and linked into place, so a power cut never
    leaves an empty key file behind, and two processes starting at once
    agree on one key. A key file others can read is tightened to 0600.

        >>> key = load_or_create_key("/var/lib/ashyq-kiosk/person.key")  # doctest: +SKIP
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    key = os.urandom(KEY_BYTES)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails if another process won the race
        except FileExistsError:
            return _read_key(path)
        finally:
            os.unlink(temporary)
        _fsync_folder(os.path.dirname(os.path.abspath(path)))
    except OSError as exc:
        raise JournalError(f"cannot create the person key {path}: {exc}") from None
    return key


def _read_key(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            key = handle.read()
            mode = os.fstat(handle.fileno()).st_mode
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise JournalError(f"cannot read the person key {path}: {exc}") from None
    if len(key) < MIN_KEY_BYTES:
        raise JournalError(f"person key {path} holds {len(key)} bytes; expected {KEY_BYTES}. "
                           "Restore it from backup: a new key makes old hashes unmatchable")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        try:
            os.chmod(path, 0o600)
        except OSError:
            pass  # not ours to fix (owned by root): doctor reports it
    return key


def _fsync_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def generate_keypair() -> tuple[str, str]:
    """(private, public), base64: the collector keeps the first, kiosks get the second."""
    private = PrivateKey.generate()
    encode = lambda raw: base64.b64encode(bytes(raw)).decode()
    return encode(private), encode(private.public_key)


def seal(number: str, public_key_b64: str) -> str:
    """The number in a libsodium sealed box (base64): anyone with the public
    key can seal, only the holder of the private key can open."""
    try:
        box = SealedBox(PublicKey(base64.b64decode(public_key_b64, validate=True)))
    except (ValueError, TypeError, binascii.Error, CryptoError) as exc:
        raise JournalError(f"collector public key is not a base64 Curve25519 key: {exc}") from None
    return base64.b64encode(box.encrypt(number.encode())).decode()


def unseal(sealed_b64: str, private_key_b64: str) -> str:
    """Open a sealed number; ValueError if it was not sealed to this key."""
    try:
        box = SealedBox(PrivateKey(base64.b64decode(private_key_b64, validate=True)))
        return box.decrypt(base64.b64decode(sealed_b64, validate=True)).decode()
    except (TypeError, binascii.Error, CryptoError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot unseal: {type(exc).__name__}") from None
