"""Opaque keyset cursors: what leaves the bank as ``endCursor`` is sealed, not encoded.

A keyset cursor holds the last row's sort value and row number. Encoded in the clear it told
anyone the sort value (a masked phone number, once) and let them forge a position. So the
datastore's plain cursor is sealed with AES-GCM under a key only the bank holds: nothing in it is
readable, any change to it fails authentication, and the query it belongs to (asset, version,
order, direction, filters) is bound in as associated data, so a cursor replayed on another query
or version fails the same way. Every failure is the one answer "the cursor is not valid".

The key is 32 random bytes in ``<data dir>/keys/cursor.key`` (0600), made once and read by every
worker sharing the data directory; a key ring's signing keys are not reused for encryption.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from marketplace.datastore.errors import QueryRejected

KEY_BYTES = 32
_NONCE_BYTES = 12
_FORMAT = b"\x01"  # the first byte: a later format (or key) can be told apart
_MAX_CURSOR = 4096  # characters: a sealed cursor of a long text sort value stays far below
_KEY_FILE = "cursor.key"
INVALID = "the cursor is not valid"


class CursorSealer:
    """Seals the datastore's cursors for clients and opens them again.

    :param key: 32 secret bytes (``load_or_create_cursor_key``, or ``os.urandom(32)`` in tests)
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a cursor key is {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    @classmethod
    def ephemeral(cls) -> "CursorSealer":
        """A sealer with a fresh key held in memory (tests, one-process servers in memory)."""
        return cls(os.urandom(KEY_BYTES))

    def seal(self, cursor: str, binding: bytes) -> str:
        """The client's form of ``cursor``, valid only with the same ``binding``."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, cursor.encode(), _FORMAT + binding)
        return base64.urlsafe_b64encode(_FORMAT + nonce + sealed).rstrip(b"=").decode("ascii")

    def open(self, sealed: object, binding: bytes) -> str:
        """The datastore's cursor inside ``sealed``; ``QueryRejected`` if it is not one this
        bank sealed for this ``binding`` (tampered, truncated, foreign, another query)."""
        if not isinstance(sealed, str) or not sealed.isascii() or len(sealed) > _MAX_CURSOR:
            raise QueryRejected(INVALID)
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        except (ValueError, binascii.Error):
            raise QueryRejected(INVALID) from None
        if raw[:1] != _FORMAT or len(raw) < 1 + _NONCE_BYTES + 16:
            raise QueryRejected(INVALID)
        nonce, body = raw[1:1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, _FORMAT + binding).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise QueryRejected(INVALID) from None


def load_or_create_cursor_key(directory: Path) -> bytes:
    """The cursor key of the data directory ``directory`` (``keys/cursor.key``), made on first use.

    Several workers may start at once: the key is written to a private temporary file and linked
    into place, which fails if another worker was first — then that worker's key is read. The
    file is 0600 from its first byte, like the signing keys.
    """
    keys_dir = Path(directory) / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys_dir / _KEY_FILE
    if not path.exists():
        tmp = keys_dir / f".{_KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}"
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, os.urandom(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker made it first: use theirs
        finally:
            tmp.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} does not hold a {KEY_BYTES}-byte cursor key")
    return key
