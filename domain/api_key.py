"""API keys: long-lived, named, scoped, expiring, revocable credentials for programs.

The format is ``dbk_`` followed by 40 URL-safe base64 characters (``A-Z a-z 0-9 - _``: 30
random bytes, 240 bits). The first 8 of the 40 are the *prefix*, stored and shown in key lists so
people can tell their keys apart; the 40 characters are the *secret*, shown once and stored only
as its SHA-256 hex digest. A key's id is derived from that digest, so the service finds a key by
hashing what a client presents — no table scan, no secret at rest.

Last use is kept per day, not per request: ``touch(day)`` records an event only when the day
changes, so the hot path writes at most one event per key per day.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, NotPermittedError
from domain.ids import natural_id
from domain.organisation import Organisation

KEY_PREFIX = "dbk_"
SECRET_LENGTH = 40
PREFIX_LENGTH = 8
ENTROPY_BYTES = 30
SCOPES = ("catalogue:read", "rows:read", "exports:read", "usage:read")
_SECRET = re.compile(rf"^[A-Za-z0-9_-]{{{SECRET_LENGTH}}}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


def format_api_key(entropy: bytes) -> str:
    """The presented key for 30 random bytes (from ``secrets.token_bytes`` in the service)."""
    if len(entropy) != ENTROPY_BYTES:
        raise ValueError(f"an API key is made of {ENTROPY_BYTES} random bytes")
    return KEY_PREFIX + base64.urlsafe_b64encode(entropy).decode("ascii")


def parse_api_key(presented: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, or None for anything else (never raises)."""
    if not isinstance(presented, str) or not presented.startswith(KEY_PREFIX):
        return None
    secret = presented[len(KEY_PREFIX):]
    if not _SECRET.match(secret):
        return None
    return secret[:PREFIX_LENGTH], secret


def hash_secret(secret: str) -> str:
    """The stored form of a secret: SHA-256 hex (the secret has 240 random bits, so a fast hash
    suffices; passwords, with little entropy, use argon2 instead)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiKey(Aggregate):
    """A credential an organisation's programs present as ``Authorization: Bearer dbk_...``."""

    @staticmethod
    def create_id(secret_hash: str) -> UUID:
        return natural_id("api-key", secret_hash)

    @classmethod
    def issue(cls, *, organisation_id: str, name: str, scopes: list[str], prefix: str,
              secret_hash: str, expires_at: datetime | None, by: Actor) -> "ApiKey":
        """Issue a key (the service has checked ``by`` is a member of the organisation).

        :param name: what the key is for, e.g. "nightly ETL", 1 to 60 characters
        :param scopes: a non-empty subset of ``SCOPES``
        :param prefix: the first 8 characters of the secret, for display
        :param secret_hash: ``hash_secret(secret)``
        :param expires_at: when the key stops working (timezone-aware), or None for never
        """
        if by.role is not Role.MEMBER:
            raise NotPermittedError("API keys are issued to members of an organisation")
        name = (name or "").strip()
        if not name or len(name) > 60:
            raise InvalidInputError("a key name of 1 to 60 characters is required", field="name")
        chosen = sorted({s.strip() for s in scopes or [] if isinstance(s, str)})
        if not chosen:
            raise InvalidInputError("a key has at least one scope", field="scopes")
        unknown = [s for s in chosen if s not in SCOPES]
        if unknown:
            raise InvalidInputError(f"unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}",
                                    field="scopes")
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z0-9_-]{8}", prefix):
            raise InvalidInputError("the prefix is the first 8 characters of the secret", field="prefix")
        if not isinstance(secret_hash, str) or not _HASH.match(secret_hash):
            raise InvalidInputError("the secret hash is a SHA-256 hex digest", field="secret_hash")
        if expires_at is not None and expires_at.tzinfo is None:
            raise InvalidInputError("the expiry needs a timezone", field="expires_at")
        return cls(organisation_id=str(organisation_id), name=name, scopes=chosen, prefix=prefix,
                   secret_hash=secret_hash, expires_at=expires_at, by=by.record())

    @event("Issued")
    def __init__(self, organisation_id: str, name: str, scopes: list[str], prefix: str,
                 secret_hash: str, expires_at: datetime | None, by: dict[str, Any]) -> None:
        self.organisation_id = organisation_id
        self.name = name
        self.scopes = scopes
        self.prefix = prefix
        self.secret_hash = secret_hash
        self.expires_at = expires_at
        self.created_by = by["id"]
        self.revoked = False
        self.last_used_day: str | None = None  # ISO date; dates have no transcoding of their own

    # ---- queries -------------------------------------------------------------------------

    def is_usable(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def display(self) -> str:
        """How lists show the key: ``dbk_AbCd1234…``."""
        return f"{KEY_PREFIX}{self.prefix}…"

    # ---- commands ------------------------------------------------------------------------

    def revoke(self, *, by: Actor, organisation: Organisation | None = None) -> None:
        """Revoke at once. Allowed to the member who issued it, any member of its organisation
        (pass the organisation), or an administrator. Revoking twice changes nothing."""
        if not self._may_revoke(by, organisation):
            raise NotPermittedError("only the organisation's members or an administrator revoke its keys")
        if not self.revoked:
            self._revoked(by=by.record())

    @event("Revoked")
    def _revoked(self, by: dict[str, Any]) -> None:
        self.revoked = True

    def touch(self, day: date) -> None:
        """Note use on ``day`` (China time): an event only for a later day than the last noted."""
        iso = day.isoformat()
        if self.revoked or (self.last_used_day is not None and iso <= self.last_used_day):
            return
        self._used(day=iso)

    @event("Used")
    def _used(self, day: str) -> None:
        self.last_used_day = day

    def _may_revoke(self, by: Actor, organisation: Organisation | None) -> bool:
        if by.role is Role.ADMIN:
            return True
        if by.role is not Role.MEMBER:
            return False
        if by.user_id == self.created_by:
            return True
        return (organisation is not None and str(organisation.id) == self.organisation_id
                and by.user_id in organisation.members)
