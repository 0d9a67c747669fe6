"""The collector's half of the kiosks' sealed boxes (libsodium, X25519): a
keypair, and opening a box. Only ``trace`` calls ``unseal``, with a private
key an officer hands it at that moment; the running service never has it.

    >>> private, public = generate_keypair()
    >>> from nacl.public import PublicKey, SealedBox
    >>> box = base64.b64encode(SealedBox(PublicKey(base64.b64decode(public))).encrypt(b"871008401427"))
    >>> unseal(box.decode(), private)
    '871008401427'
"""
from __future__ import annotations

import base64
import binascii

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox


def generate_keypair() -> tuple[str, str]:
    """(private, public), base64: the private half stays offline, the public
    half goes into every kiosk's ``sync.collector_public_key``."""
    private = PrivateKey.generate()
    return base64.b64encode(bytes(private)).decode(), base64.b64encode(bytes(private.public_key)).decode()


def opener(private_key_b64: str) -> SealedBox:
    """A box opener for the key, or ValueError for something that is not one."""
    try:
        raw = base64.b64decode(private_key_b64.strip(), validate=True)
        return SealedBox(PrivateKey(raw))
    except (TypeError, ValueError, binascii.Error, CryptoError) as exc:
        raise ValueError(f"not a base64 Curve25519 private key: {exc}") from None


def unseal(sealed_b64: str, private_key_b64: str, box: SealedBox | None = None) -> str:
    """The number in the box; ValueError if it was sealed to another key."""
    try:
        box = box or opener(private_key_b64)
        return box.decrypt(base64.b64decode(sealed_b64, validate=True)).decode()
    except (TypeError, binascii.Error, CryptoError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot unseal: {type(exc).__name__}") from None
