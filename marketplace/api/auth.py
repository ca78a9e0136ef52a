"""Who is calling: resolvers ask for the actor the web layer authenticated."""

from __future__ import annotations

from typing import Any

from domain.actors import Actor, Role
from marketplace.api.errors import UnauthenticatedError

STAFF = (Role.ADMIN, Role.REVIEWER, Role.PUBLISHER)


def require_staff(info: Any) -> Actor:
    """The logged-in staff actor, or UNAUTHENTICATED (business permissions are the domain's)."""
    actor: Actor = info.context.actor
    if actor.role not in STAFF:
        raise UnauthenticatedError("log in as data bank staff (Authorization: Bearer <token>)")
    return actor


def require_member(info: Any) -> Actor:
    """The logged-in member (of a startup or maker-space), or UNAUTHENTICATED."""
    actor: Actor = info.context.actor
    if actor.role is not Role.MEMBER:
        raise UnauthenticatedError("log in with a member account (Authorization: Bearer <token>)")
    return actor


def require_signed_in(info: Any) -> Actor:
    """Anyone logged in (staff or member), or UNAUTHENTICATED."""
    actor: Actor = info.context.actor
    if actor.role is Role.ANONYMOUS:
        raise UnauthenticatedError("log in first (Authorization: Bearer <token>)")
    return actor


def issue_token(info: Any, actor: Actor) -> tuple[str, Any]:
    """A JWT for ``actor`` (staff or member); returns the token and its claims."""
    return info.context.tokens.issue(
        subject=actor.user_id, name=actor.name, role=actor.role.value,
        department_id=actor.department_id, organisation_id=actor.organisation_id)
