"""Log in (a short-lived JWT), the viewer, and staff accounts opened by administrators."""

from __future__ import annotations

from typing import Any

import graphene

from domain.actors import Role as DomainRole
from domain.errors import DomainError, NotFoundError
from marketplace.api.auth import issue_token, require_staff
from marketplace.api.errors import RateLimitedError
from marketplace.api.payload import as_user_error
from marketplace.api.staff.errors import KNOWN, StaffError
from marketplace.services.login import LoginLocked, log_in

Role = graphene.Enum.from_enum(DomainRole, description="What a person may do in the data bank.")
StaffRole = graphene.Enum("StaffRole", [("ADMIN", "admin"), ("REVIEWER", "reviewer"),
                                        ("PUBLISHER", "publisher")])


class Viewer(graphene.ObjectType):
    """The person calling (anonymous when no token was sent)."""

    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    role = graphene.Field(Role, required=True)
    department_id = graphene.ID()
    organisation_id = graphene.ID(description="The organisation a member acts for.")


def _viewer(actor: Any) -> dict:
    return {"id": actor.user_id, "name": actor.name, "role": actor.role.value,
            "department_id": actor.department_id, "organisation_id": actor.organisation_id}


for _f in ("id", "name", "role", "department_id", "organisation_id"):
    setattr(Viewer, f"resolve_{_f}", staticmethod(lambda parent, info, _f=_f: parent[_f]))


class StaffAccount(graphene.ObjectType):
    id = graphene.ID(required=True)
    username = graphene.String(required=True)
    name = graphene.String(required=True)
    role = graphene.Field(Role, required=True)
    department_id = graphene.ID()


class LoginPayload(graphene.ObjectType):
    token = graphene.String(description="A JWT for `Authorization: Bearer <token>`.")
    expires_at = graphene.DateTime()
    viewer = graphene.Field(Viewer)
    errors = graphene.List(graphene.NonNull(StaffError), required=True)


class Login(graphene.Mutation):
    """Log in as staff (username) or as a member (e-mail address); the token expires after a
    short while (log in again). A member's token acts for their current organisation.
    Failed logins lock the account (after 5) and the client address (after 20) for 1, 2, 4 …
    seconds, up to 15 minutes: a locked attempt is refused with `RATE_LIMITED` and `retryAfter`
    (HTTP 429, Retry-After) without the password being checked. One `login` per request."""

    class Arguments:
        username = graphene.String(required=True, description="A staff username, or a member's e-mail.")
        password = graphene.String(required=True)

    Output = LoginPayload

    @staticmethod
    def mutate(root: Any, info: Any, username: str, password: str) -> LoginPayload:
        context = info.context
        try:
            actor = log_in(username, password, context.caller.ip, throttle=context.login_throttle,
                           staff=context.staff.authenticate,
                           members=context.members.authenticate_member)
        except LoginLocked as locked:
            raise RateLimitedError(str(locked), retry_after=locked.retry_after) from None
        if actor is None:
            return LoginPayload(errors=[{"field": None, "code": "INVALID_CREDENTIALS",
                                         "message": "the username or password is wrong"}])
        token, claims = issue_token(info, actor)
        return LoginPayload(token=token, expires_at=claims.expires_at, viewer=_viewer(actor), errors=[])


class StaffAccountPayload(graphene.ObjectType):
    account = graphene.Field(StaffAccount)
    errors = graphene.List(graphene.NonNull(StaffError), required=True)


class OpenStaffAccount(graphene.Mutation):
    """Open a staff account (administrators). Publishers belong to a department."""

    class Arguments:
        username = graphene.String(required=True)
        name = graphene.String(required=True)
        role = StaffRole(required=True)
        password = graphene.String(required=True)
        department_id = graphene.ID()

    Output = StaffAccountPayload

    @staticmethod
    def mutate(root: Any, info: Any, username: str, name: str, role: Any, password: str,
               department_id: str | None = None) -> StaffAccountPayload:
        actor = require_staff(info)
        role_value = getattr(role, "value", role)
        try:
            if department_id and info.context.catalogue.get_department(department_id) is None:
                raise NotFoundError("no such department", field="department_id")
            account = info.context.staff.open_account(
                username=username, name=name, role=DomainRole(role_value), password=password,
                department_id=department_id, by=actor)
        except DomainError as error:
            return StaffAccountPayload(errors=[as_user_error(error, KNOWN)])
        return StaffAccountPayload(account={
            "id": str(account.id), "username": account.username, "name": account.name,
            "role": account.role, "department_id": account.department_id}, errors=[])


class StaffQueries(graphene.ObjectType):
    viewer = graphene.Field(Viewer, required=True)

    @staticmethod
    def resolve_viewer(root: Any, info: Any) -> dict:
        return _viewer(info.context.actor)


class StaffMutations(graphene.ObjectType):
    login = Login.Field()
    open_staff_account = OpenStaffAccount.Field()
