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

import jwt

from marketplace.identity.keys import KeyRing
from marketplace.identity.tokens import DEFAULT_ISSUER, InvalidTokenError

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
        self._jwt = jwt.PyJWT()

    def sign(self, subject: str, claims: dict[str, Any]) -> tuple[str, datetime]:
        """A compact JWT stating ``claims`` (JSON values) about ``subject``; and its expiry."""
        if not isinstance(subject, str) or not subject:
            raise ValueError("subject must be a non-empty string")
        issued = int(self.clock().timestamp())
        expires = issued + int(self.ttl.total_seconds())
        payload = {**claims, "iss": self.issuer, "aud": self.audience, "sub": subject,
                   "iat": issued, "exp": expires, "jti": uuid.uuid4().hex}
        key = self.keyring.current
        token = jwt.encode(payload, key.private_key, algorithm=key.algorithm,
                           headers={"kid": key.kid, "typ": "JWT"})
        return token, datetime.fromtimestamp(expires, timezone.utc)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid statement; raises InvalidTokenError naming the first problem."""
        if not isinstance(token, str) or token.count(".") != 2:
            raise InvalidTokenError("malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise InvalidTokenError("malformed") from None
        if header.get("alg") != self.keyring.algorithm:
            raise InvalidTokenError("unsupported_algorithm")
        kid = header.get("kid")
        key = self.keyring.get(kid) if isinstance(kid, str) and kid else None
        if key is None:
            raise InvalidTokenError("unknown_key")
        try:
            payload = self._jwt.decode(
                token, key.public_key, algorithms=[key.algorithm], audience=self.audience,
                issuer=self.issuer,
                options={"require": list(_REQUIRED), "verify_exp": False, "verify_nbf": False,
                         "verify_iat": False})
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("bad_signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidTokenError("missing_claim", f"The link lacks the required {exc.claim!r} claim.") from None
        except jwt.InvalidAudienceError:
            raise InvalidTokenError("wrong_audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidTokenError("wrong_issuer") from None
        except jwt.PyJWTError:
            raise InvalidTokenError("malformed") from None
        expires = payload["exp"]
        if isinstance(expires, bool) or not isinstance(expires, (int, float)):
            raise InvalidTokenError("malformed")
        if self.clock().timestamp() >= expires + self._leeway:
            raise InvalidTokenError("expired", "The link has expired; request a new one.")
        return payload
