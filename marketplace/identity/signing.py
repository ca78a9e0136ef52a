"""Signing and checking the bank's JWTs — login tokens and signed statements alike — in one
place: one algorithm (the key ring's), chosen by us and never by the token; a ``kid`` naming a
key on the ring; the audience and issuer required; time claims left to the caller's clock."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Sequence

import jwt

from marketplace.identity.keys import KeyRing

_MESSAGES = {
    "expired": "The token has expired; sign in again.",
    "bad_signature": "The token's signature does not verify; it was altered or not issued by this data bank.",
    "malformed": "The token is not a well-formed JWT.",
    "unsupported_algorithm": "The token is signed with an algorithm this data bank does not accept.",
    "unknown_key": "The token names no signing key this data bank knows.",
    "wrong_audience": "The token was issued for another audience.",
    "wrong_issuer": "The token was issued by another issuer.",
    "not_yet_valid": "The token is not valid yet; check the clocks.",
    "missing_claim": "The token lacks a required claim.",
}


class InvalidTokenError(Exception):
    """A token was refused; ``reason`` says why in one word, ``str()`` in one sentence."""

    REASONS = frozenset(_MESSAGES)

    def __init__(self, reason: str, message: str | None = None) -> None:
        if reason not in _MESSAGES:
            raise ValueError(f"unknown reason {reason!r}")
        self.reason = reason
        super().__init__(message or _MESSAGES[reason])


def seconds_claim(payload: dict[str, Any], claim: str, what: str = "token") -> datetime:
    """A time claim (``exp``, ``iat``, ``nbf``) as an aware datetime, whole seconds.

    Signed is not sane: JSON numbers may be ``1e20``, ``NaN`` or ``Infinity`` (Python's parser
    accepts them), none of which is a date — each is a malformed token, never an overflow."""
    value = payload.get(claim)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTokenError("malformed", f"The {what}'s {claim!r} claim is not a number of seconds.")
    try:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(value)
        return datetime.fromtimestamp(int(value), timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise InvalidTokenError("malformed", f"The {what}'s {claim!r} claim is not a time this "
                                             "data bank can represent.") from None


def sign(keyring: KeyRing, payload: dict[str, Any]) -> str:
    """A compact JWT of ``payload`` signed with the ring's current key, naming it in ``kid``."""
    key = keyring.current
    return jwt.encode(payload, key.private_key, algorithm=key.algorithm,
                      headers={"kid": key.kid, "typ": "JWT"})


def decode(keyring: KeyRing, token: str, *, audience: str, issuer: str,
           required: Sequence[str], what: str = "token") -> dict[str, Any]:
    """The payload of a token whose signature, key, audience and issuer check out; ``exp``,
    ``nbf`` and ``iat`` are NOT checked here (the caller judges them by its own clock)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidTokenError("malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise InvalidTokenError("malformed") from None
    algorithm = header.get("alg")
    if algorithm != keyring.algorithm:
        # Decided before any key is used: the token never picks how it is verified.
        raise InvalidTokenError(
            "unsupported_algorithm",
            f"The {what} is signed with {str(algorithm)[:20]!r}; this data bank accepts only "
            f"{keyring.algorithm}.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidTokenError("unknown_key", f"The {what} does not name its signing key (no 'kid' header).")
    key = keyring.get(kid)
    if key is None:
        raise InvalidTokenError("unknown_key")
    try:
        return jwt.PyJWT().decode(
            token, key.public_key, algorithms=[key.algorithm], audience=audience, issuer=issuer,
            options={"require": list(required), "verify_exp": False, "verify_nbf": False,
                     "verify_iat": False})
    except jwt.InvalidSignatureError:
        raise InvalidTokenError("bad_signature") from None
    except jwt.InvalidAlgorithmError:
        raise InvalidTokenError("unsupported_algorithm") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidTokenError("missing_claim", f"The {what} lacks the required {exc.claim!r} claim.") from None
    except jwt.InvalidAudienceError:
        raise InvalidTokenError("wrong_audience") from None
    except jwt.InvalidIssuerError:
        raise InvalidTokenError("wrong_issuer") from None
    except jwt.PyJWTError:
        raise InvalidTokenError("malformed") from None
