"""Authenticate a request: a staff JWT in ``Authorization: Bearer``, or anonymous."""

from __future__ import annotations

from starlette.requests import Request

from domain.actors import ANONYMOUS, Actor, Role
from marketplace.api.errors import UnauthenticatedError
from marketplace.identity import InvalidTokenError, TokenService


def authenticate(request: Request, tokens: TokenService) -> Actor:
    """The actor behind the request; a token that is present but invalid is refused outright
    (a caller who meant to log in must not silently act as anonymous)."""
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise UnauthenticatedError("the Authorization header must be 'Bearer <token>'")
    try:
        claims = tokens.verify(credential.strip())
    except InvalidTokenError as exc:
        raise UnauthenticatedError(str(exc), reason=exc.reason) from None
    return Actor(user_id=claims.subject, name=claims.name, role=Role(claims.role),
                 department_id=claims.department_id, organisation_id=claims.organisation_id)
