"""The bank's token signing keys: Ed25519 (JWS algorithm ``EdDSA``), each named by a ``kid``.

Ed25519 rather than ES256: signatures are deterministic (no per-signature nonce to get wrong),
keys are 32 bytes, signing and verifying are fast, and pyjwt 2.15 covers it end to end
(``OKPAlgorithm.to_jwk`` exports the public JWK, ``jwt.PyJWK`` rebuilds a verifier from it).

The newest key signs; every key still on the ring verifies, so rotating does not log anyone
out. A key's ``kid`` is its RFC 7638 JWK thumbprint, so the same key always has the same name
on every worker and in every published JWKS.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"
_CURVE = "Ed25519"
_FILE_PREFIX = "signing-key-"
_FILE_SUFFIX = ".pem"
_STAMP = "%Y%m%dT%H%M%S%fZ"
_ONE_SECOND = timedelta(seconds=1)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk_members(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The required members of the public key's JWK (RFC 8037: kty, crv, x)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"crv": _CURVE, "kty": "OKP", "x": _b64url(raw)}


def jwk_thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 of the required members, sorted, no whitespace; base64url."""
    canonical = json.dumps(public_jwk_members(public_key), sort_keys=True, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


@dataclass(frozen=True)
class SigningKey:
    """One key pair of the ring.

    :param kid: the RFC 7638 thumbprint of the public key, carried in every token's header
    :param algorithm: the JWS ``alg`` this key signs with (always ``EdDSA``)
    :param private_key: signs tokens; never leaves the bank
    :param public_key: verifies tokens; published in the JWKS
    :param created_at: when the key was made (UTC); the newest key is the current one
    """

    kid: str
    algorithm: str
    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey
    created_at: datetime

    @classmethod
    def generate(cls, created_at: datetime) -> "SigningKey":
        return cls.from_private_key(Ed25519PrivateKey.generate(), created_at)

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey, created_at: datetime) -> "SigningKey":
        public_key = private_key.public_key()
        return cls(jwk_thumbprint(public_key), ALGORITHM, private_key, public_key, created_at)

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK, as published at ``/.well-known/jwks.json``."""
        return {**public_jwk_members(self.public_key), "kid": self.kid, "alg": self.algorithm,
                "use": "sig"}

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(kid={self.kid!r}, algorithm={self.algorithm!r}, created_at={self.created_at.isoformat()})"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class KeyRing:
    """The signing keys: the newest signs, all unexpired verify (rotation without logging everyone out).

    Keys loaded from a directory live as PEM files (mode 0600) in ``<directory>/keys/``, one per
    key, named by creation time. Several worker processes may share the directory: creation and
    rotation take a file lock, and a worker that meets an unknown ``kid`` re-reads the directory
    (at most once per ``refresh_interval``), so a key rotated by one worker verifies on all.
    Retiring a key (``retire``) is how a key stops verifying; do it once the tokens it signed
    have expired (one token lifetime after the rotation).
    """

    def __init__(self, keys: list[SigningKey], *, directory: Path | None = None,
                 clock: Callable[[], datetime] = _utc_now, refresh_interval: float = 5.0) -> None:
        """
        :param keys: at least one key; the newest (by ``created_at``) signs
        :param directory: the ``keys/`` directory the ring persists to, or None (in memory)
        :param clock: the time new keys are stamped with
        :param refresh_interval: seconds between directory re-reads triggered by unknown kids
        """
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._lock = threading.Lock()
        self._directory = directory
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._last_refresh = time.monotonic()
        self._set_keys(keys)

    def _set_keys(self, keys: list[SigningKey]) -> None:
        ordered = sorted(keys, key=lambda k: k.created_at)
        self._keys = {k.kid: k for k in ordered}
        self._current = ordered[-1]

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def ephemeral(cls, *, clock: Callable[[], datetime] = _utc_now) -> "KeyRing":
        """A ring with one fresh key, held in memory only (tests, throwaway servers)."""
        return cls([SigningKey.generate(clock())], clock=clock)

    @classmethod
    def load_or_create(cls, directory: Path, *, clock: Callable[[], datetime] = _utc_now) -> "KeyRing":
        """The ring persisted under ``directory/keys/``; the first key is created on first use."""
        keys_dir = Path(directory) / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _DirectoryLock(keys_dir):
            keys = _read_keys(keys_dir)
            if not keys:
                key = SigningKey.generate(clock())
                _write_key(keys_dir, key)
                keys = [key]
        return cls(keys, directory=keys_dir, clock=clock)

    # -- use ---------------------------------------------------------------------------------

    @property
    def algorithm(self) -> str:
        return ALGORITHM

    @property
    def current(self) -> SigningKey:
        """The key new tokens are signed with."""
        return self._current

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """Every key that verifies, oldest first."""
        return tuple(self._keys.values())

    def get(self, kid: str) -> SigningKey | None:
        """The key named ``kid``, or None when the ring does not hold it."""
        key = self._keys.get(kid)
        if key is None and self._directory is not None:
            now = time.monotonic()
            if now - self._last_refresh >= self._refresh_interval:
                self.refresh()
                key = self._keys.get(kid)
        return key

    def refresh(self) -> None:
        """Re-read the key directory (keys rotated or retired by another process)."""
        if self._directory is None:
            return
        with self._lock:
            self._last_refresh = time.monotonic()
            keys = _read_keys(self._directory)
            if keys:
                self._set_keys(keys)

    def rotate(self) -> SigningKey:
        """Make a new key the signing key; the old ones keep verifying until retired."""
        with self._lock:
            created = self._clock()
            if created <= self._current.created_at:  # keep "newest signs" well defined
                created = self._current.created_at.replace(microsecond=0) + _ONE_SECOND
            key = SigningKey.generate(created)
            if self._directory is not None:
                with _DirectoryLock(self._directory):
                    _write_key(self._directory, key)
            self._set_keys([*self._keys.values(), key])
            return key

    def retire(self, kid: str) -> None:
        """Stop a key verifying (and delete its file). The current key cannot be retired."""
        with self._lock:
            if kid == self._current.kid:
                raise ValueError("the current signing key cannot be retired; rotate first")
            key = self._keys.get(kid)
            if key is None:
                raise KeyError(kid)
            if self._directory is not None:
                with _DirectoryLock(self._directory):
                    _key_path(self._directory, key).unlink(missing_ok=True)
            self._set_keys([k for k in self._keys.values() if k.kid != kid])

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys as a JWK Set: ``{"keys": [{kty, crv, x, kid, alg, use}, ...]}``."""
        return {"keys": [k.public_jwk() for k in reversed(self._keys.values())]}

    def __repr__(self) -> str:
        return f"KeyRing(current={self._current.kid!r}, keys={len(self._keys)})"


class _DirectoryLock:
    """An exclusive advisory lock on ``keys/.lock`` so two workers never both create a first key."""

    def __init__(self, keys_dir: Path) -> None:
        self._path = keys_dir / ".lock"
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _key_path(keys_dir: Path, key: SigningKey) -> Path:
    stamp = key.created_at.astimezone(timezone.utc).strftime(_STAMP)
    return keys_dir / f"{_FILE_PREFIX}{stamp}{_FILE_SUFFIX}"


def _write_key(keys_dir: Path, key: SigningKey) -> None:
    path = _key_path(keys_dir, key)
    tmp = path.with_suffix(".tmp")
    # Created 0600 from the first byte (no window where the key is world-readable), then renamed
    # into place so a reader never sees half a key.
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, key.private_pem())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _read_keys(keys_dir: Path) -> list[SigningKey]:
    keys = []
    for path in sorted(keys_dir.glob(f"{_FILE_PREFIX}*{_FILE_SUFFIX}")):
        stamp = path.name[len(_FILE_PREFIX):-len(_FILE_SUFFIX)]
        created = datetime.strptime(stamp, _STAMP).replace(tzinfo=timezone.utc)
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        keys.append(SigningKey.from_private_key(private, created))
    return keys
