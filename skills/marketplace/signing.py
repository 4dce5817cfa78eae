"""Ed25519 signatures over a package's sha256: who made what a consumer installs.

The publisher signs ``skillworks-package-v1:<sha256>`` (a fixed prefix, so a signature
made for anything else never verifies as a package's); the store keeps the publisher's
public key and each version's signature, and anyone can verify both with ``verify``.
``skillworks publish`` creates the key on first use and keeps it in the skillworks home
(mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_CONTEXT = b"skillworks-package-v1:"


def signed_message(sha256: str) -> bytes:
    return _CONTEXT + sha256.encode("ascii")


def package_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_fingerprint(public_key_b64: str) -> str:
    """sha256 of the raw public key, hex: short enough to show, long enough to compare."""
    return hashlib.sha256(_decode(public_key_b64)).hexdigest()


def verify(public_key_b64: str, sha256: str, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is the owner of ``public_key_b64`` signing the package ``sha256``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(_decode(public_key_b64))
        key.verify(_decode(signature_b64), signed_message(sha256))
    except (InvalidSignature, ValueError):
        return False
    return True


def valid_public_key(public_key_b64: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(_decode(public_key_b64))
    except ValueError:
        return False
    return True


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64: {exc}") from exc


class PublisherKey:
    """A publisher's private key, kept in a PEM file only its owner can read."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key

    @classmethod
    def load_or_create(cls, path: Path) -> PublisherKey:
        if path.is_file():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{path} does not hold an Ed25519 private key")
            return cls(loaded)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        return cls(key)

    @classmethod
    def generate(cls) -> PublisherKey:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key_b64(self) -> str:
        raw = self._private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def sign(self, sha256: str) -> str:
        return base64.b64encode(self._private_key.sign(signed_message(sha256))).decode("ascii")
