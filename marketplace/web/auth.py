"""Authenticate a request: a JWT (staff or member login) or an API key (``dbk_...``, as a Bearer
token or in ``X-API-Key``), or anonymous.

A credential that is present but invalid is refused outright: a caller who meant to act as
someone must not silently act as anonymous.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from starlette.requests import Request

from domain.actors import ANONYMOUS, Actor, Role
from domain.api_key import hash_secret, parse_api_key
from marketplace.api.errors import ForbiddenError, UnauthenticatedError
from marketplace.identity import InvalidTokenError, TokenService
from marketplace.services.access import Caller

API_KEY_PREFIX = "dbk_"
API_KEY_ACTOR_PREFIX = "api-key:"
KeyLookup = Callable[[str], Any]
KeyUsed = Callable[[str], None]
#: The roles a login token may carry (anonymous is the absence of a token, never a claim).
_TOKEN_ROLES = {role.value: role for role in Role if role is not Role.ANONYMOUS}


def authenticate(request: Request, tokens: TokenService, keys: KeyLookup | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 key_used: KeyUsed | None = None) -> Caller:
    """The caller behind the request.

    :param keys: secret hash → API key record (``key_by_hash``), cached by the access path
    :param key_used: told the key id of every request an API key authenticated (it must be
        cheap: ``RowAccess.key_used`` queues the first use of a day and returns)
    """
    ip = request.client.host if request.client else ""
    presented = request.headers.get("x-api-key", "")
    header = request.headers.get("authorization", "")
    if header and not presented:
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise UnauthenticatedError("the Authorization header must be 'Bearer <token or API key>'")
        if not credential.startswith(API_KEY_PREFIX):
            return Caller(actor=_from_token(tokens, credential), ip=ip)
        presented = credential
    if not presented:
        return Caller(actor=ANONYMOUS, ip=ip)
    caller = _from_api_key(presented, keys, now(), ip)
    if key_used is not None:
        key_used(caller.actor.user_id.removeprefix(API_KEY_ACTOR_PREFIX))
    return caller


def check_uploader(caller: Caller) -> None:
    """Refuse a file upload before its body is read: only a department publisher (by login
    token) adds versions, so anyone else is turned away with nothing spooled — the upload
    mutation still checks the department."""
    role = caller.actor.role
    if role is Role.ANONYMOUS:
        raise UnauthenticatedError("log in as a department publisher before uploading a file "
                                   "(Authorization: Bearer <token>)")
    if role is not Role.PUBLISHER or caller.actor.department_id is None:
        raise ForbiddenError("only a department publisher uploads files")


def _from_token(tokens: TokenService, token: str) -> Actor:
    try:
        claims = tokens.verify(token)
    except InvalidTokenError as exc:
        raise UnauthenticatedError(str(exc), reason=exc.reason) from None
    role = _TOKEN_ROLES.get(claims.role)
    if role is None:
        # Signed by us but naming no role we issue: refuse it rather than guess what it may do.
        raise UnauthenticatedError("The token names a role this data bank does not issue.",
                                   reason="unknown_role")
    return Actor(user_id=claims.subject, name=claims.name, role=role,
                 department_id=claims.department_id, organisation_id=claims.organisation_id)


def _from_api_key(presented: str, keys: KeyLookup | None, now: datetime, ip: str) -> Caller:
    parsed = parse_api_key(presented)
    if parsed is None or keys is None:
        raise UnauthenticatedError("the API key is malformed: keys look like dbk_ and 40 characters",
                                   reason="malformed_key")
    _, secret = parsed
    record = keys(hash_secret(secret))
    if record is None:
        raise UnauthenticatedError("the API key is unknown", reason="unknown_key")
    if record.revoked:
        raise UnauthenticatedError("the API key was revoked", reason="revoked_key")
    if record.expires_at is not None and record.expires_at <= now:
        raise UnauthenticatedError("the API key has expired", reason="expired_key")
    actor = Actor(user_id=f"{API_KEY_ACTOR_PREFIX}{record.key_id}", name=record.name, role=Role.MEMBER,
                  organisation_id=record.organisation_id)
    return Caller(actor=actor, scopes=tuple(record.scopes), ip=ip, key_id=record.key_id)
