"""Signed statements: short-lived, self-contained JWTs that say what their bearer may fetch
(an export link's token), signed by the bank's key ring so that any worker verifies them with no
shared state.

Verified as strictly as login tokens (``tokens.py``): one algorithm (the ring's EdDSA), chosen by
us and never by the token; a ``kid`` naming a key on the ring; one audience per kind of
statement, so a login token is never an export link and an export link never logs anyone in;
the expiry judged by the injected clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from marketplace.identity.keys import KeyRing
from marketplace.identity.signing import InvalidTokenError, decode, seconds_claim, sign
from marketplace.identity.tokens import DEFAULT_ISSUER

_REQUIRED = ("iss", "aud", "sub", "iat", "exp", "jti")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class StatementSigner:
    """Signs and verifies statements of one audience.

    :param keyring: signs with its current key, verifies with any key it holds
    :param audience: the ``aud`` of issued statements, and the only one accepted
    :param issuer: the ``iss`` of issued statements, and the only one accepted
    :param ttl: how long an issued statement lives
    :param clock: now, timezone-aware (inject to control time)
    :param leeway: tolerated clock skew between workers for ``exp``
    """

    def __init__(self, keyring: KeyRing, *, audience: str, issuer: str = DEFAULT_ISSUER,
                 ttl: timedelta = timedelta(minutes=15), clock: Callable[[], datetime] = _utc_now,
                 leeway: timedelta = timedelta(seconds=5)) -> None:
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        self.keyring = keyring
        self.audience = audience
        self.issuer = issuer
        self.ttl = ttl
        self.clock = clock
        self._leeway = int(leeway.total_seconds())

    def sign(self, subject: str, claims: dict[str, Any]) -> tuple[str, datetime]:
        """A compact JWT stating ``claims`` (JSON values) about ``subject``; and its expiry."""
        if not isinstance(subject, str) or not subject:
            raise ValueError("subject must be a non-empty string")
        issued = int(self.clock().timestamp())
        expires = issued + int(self.ttl.total_seconds())
        payload = {**claims, "iss": self.issuer, "aud": self.audience, "sub": subject,
                   "iat": issued, "exp": expires, "jti": uuid.uuid4().hex}
        return sign(self.keyring, payload), datetime.fromtimestamp(expires, timezone.utc)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid statement; raises InvalidTokenError naming the first problem."""
        payload = decode(self.keyring, token, audience=self.audience, issuer=self.issuer,
                         required=_REQUIRED, what="link")
        expires = seconds_claim(payload, "exp", what="link").timestamp()
        if self.clock().timestamp() >= expires + self._leeway:
            raise InvalidTokenError("expired", "The link has expired; request a new one.")
        return payload
