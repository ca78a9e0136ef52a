"""Short-lived staff tokens: JWTs signed by the key ring, verified strictly.

Verification accepts exactly one algorithm, the ring's (``EdDSA``), chosen by us and never by the
token: ``alg: none`` and ``HS256`` tokens "signed" with the public key are refused before any key
is touched. The ``kid`` header is required and must name a key on the ring. Time claims are
checked against the injected clock (so tests and replays control time), with a small leeway for
clock skew between government systems.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from marketplace.identity.keys import KeyRing
from marketplace.identity.signing import InvalidTokenError, decode, seconds_claim, sign

DEFAULT_ISSUER = "https://databank.luan.gov.cn"
DEFAULT_AUDIENCE = "luan-databank"

_REQUIRED = ("iss", "aud", "sub", "iat", "nbf", "exp", "jti", "name", "role")


@dataclass(frozen=True)
class Claims:
    """What a verified staff token says about its bearer.

    :param subject: the user id (``sub``)
    :param name: the display name
    :param role: admin, reviewer, publisher or member (not checked here: no business rules)
    :param department_id: the department of a publisher or reviewer (``dept``)
    :param organisation_id: the organisation of a member (``org``)
    :param issued_at: ``iat``, whole seconds, UTC
    :param expires_at: ``exp``, whole seconds, UTC
    :param token_id: ``jti``, unique per token (for revocation lists and audit)
    """

    subject: str
    name: str
    role: str
    department_id: str | None
    organisation_id: str | None
    issued_at: datetime
    expires_at: datetime
    token_id: str


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _timestamp(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("the clock must return timezone-aware datetimes")
    return int(moment.timestamp())


class TokenService:
    """Issues and verifies the bank's staff JWTs."""

    def __init__(self, keyring: KeyRing, *, issuer: str = DEFAULT_ISSUER,
                 audience: str = DEFAULT_AUDIENCE, ttl: timedelta = timedelta(minutes=30),
                 clock: Callable[[], datetime] = _utc_now,
                 leeway: timedelta = timedelta(seconds=30)) -> None:
        """
        :param keyring: signs with its current key, verifies with any key it holds
        :param issuer: ``iss`` of issued tokens, and the only issuer accepted
        :param audience: ``aud`` of issued tokens, and the only audience accepted
        :param ttl: how long an issued token lives
        :param clock: returns the current time as an aware datetime (inject to control time)
        :param leeway: tolerated clock skew for ``exp``, ``nbf`` and ``iat``
        """
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self._clock = clock
        self._leeway = int(leeway.total_seconds())

    def issue(self, *, subject: str, name: str, role: str, department_id: str | None = None,
              organisation_id: str | None = None) -> tuple[str, Claims]:
        """Sign a token for a staff member; returns the compact JWT and what it claims."""
        for claim, value in (("subject", subject), ("name", name), ("role", role)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{claim} must be a non-empty string")
        issued = _timestamp(self._clock())
        expires = issued + int(self.ttl.total_seconds())
        token_id = uuid.uuid4().hex
        payload: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": subject,
            "iat": issued, "nbf": issued, "exp": expires, "jti": token_id,
            "name": name, "role": role, "dept": department_id, "org": organisation_id,
        }
        token = sign(self.keyring, payload)
        claims = Claims(subject, name, role, department_id, organisation_id,
                        datetime.fromtimestamp(issued, timezone.utc),
                        datetime.fromtimestamp(expires, timezone.utc), token_id)
        return token, claims

    def verify(self, token: str) -> Claims:
        """The claims of a valid token; raises InvalidTokenError naming the first problem."""
        payload = decode(self.keyring, token, audience=self.audience, issuer=self.issuer,
                         required=_REQUIRED)
        return self._claims(payload)

    def _claims(self, payload: dict[str, Any]) -> Claims:
        now = _timestamp(self._clock())
        issued = seconds_claim(payload, "iat")
        not_before = seconds_claim(payload, "nbf")
        expires = seconds_claim(payload, "exp")
        if now >= expires.timestamp() + self._leeway:
            raise InvalidTokenError("expired")
        if now + self._leeway < not_before.timestamp() or now + self._leeway < issued.timestamp():
            raise InvalidTokenError("not_yet_valid")
        strings = {}
        for claim in ("sub", "jti", "name", "role"):
            value = payload[claim]
            if not isinstance(value, str) or not value:
                raise InvalidTokenError("missing_claim", f"The token's {claim!r} claim must be non-empty text.")
            strings[claim] = value
        optional = {}
        for claim in ("dept", "org"):
            value = payload.get(claim)
            if value is not None and not isinstance(value, str):
                raise InvalidTokenError("malformed", f"The token's {claim!r} claim must be text or null.")
            optional[claim] = value
        return Claims(strings["sub"], strings["name"], strings["role"], optional["dept"],
                      optional["org"], issued, expires, strings["jti"])
