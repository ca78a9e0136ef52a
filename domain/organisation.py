"""利用主体: an organisation that uses the data — a startup or a maker-space (众创空间).

An organisation is identified by its unified social credit code (GB 32100). The member who
registers it becomes its owner; owners add members directly or invite them by e-mail, and an
organisation always keeps at least one owner. A maker-space may sponsor member startups (the
services let sponsored startups share its credits or subscriptions).

Membership lives here, not on the ``Actor``: a service that lets a member act for an
organisation (subscribe, issue an API key) first calls ``check_member``.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidStateError,
    LastOwnerError,
    NotFoundError,
    NotPermittedError,
)
from domain.identifiers import check_uscc
from domain.ids import natural_id

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class OrganisationKind(str, Enum):
    STARTUP = "startup"
    MAKER_SPACE = "maker_space"  # 众创空间


class MemberRole(str, Enum):
    OWNER = "owner"
    MEMBER = "member"


class Organisation(Aggregate):
    """A startup or maker-space whose members subscribe to data and hold API keys."""

    @staticmethod
    def create_id(credit_code: str) -> UUID:
        return natural_id("organisation", credit_code)

    @classmethod
    def register(cls, *, credit_code: str, name: str, kind: OrganisationKind | str,
                 by: Actor) -> "Organisation":
        """Register an organisation; ``by`` (a member account) becomes its first owner.

        :param credit_code: the unified social credit code (统一社会信用代码), checked by GB 32100
        :param name: the registered name, 1 to 100 characters
        :param kind: ``startup`` or ``maker_space``
        """
        if by.role is not Role.MEMBER:
            raise NotPermittedError("an organisation is registered by a member account")
        credit_code = (credit_code or "").strip().upper()
        problem = check_uscc(credit_code)
        if problem is not None:
            raise InvalidInputError(f"credit code {credit_code!r}: {problem.message}",
                                    field="credit_code", code="INVALID_CREDIT_CODE")
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInputError("a name of 1 to 100 characters is required", field="name")
        try:
            kind = OrganisationKind(kind.value if isinstance(kind, Enum) else kind)
        except ValueError:
            raise InvalidInputError(f"kind {kind!r} is not startup or maker_space", field="kind") from None
        return cls(credit_code=credit_code, name=name, kind=kind.value, by=by.record())

    @event("Registered")
    def __init__(self, credit_code: str, name: str, kind: str, by: dict[str, Any]) -> None:
        self.credit_code = credit_code
        self.name = name
        self.kind = kind
        self.members: dict[str, dict[str, str]] = {
            by["id"]: {"name": by["name"], "role": MemberRole.OWNER.value}}
        self.invitations: dict[str, str] = {}  # e-mail → role
        self.sponsored: list[str] = []

    # ---- queries -------------------------------------------------------------------------

    def role_of(self, user_id: str) -> MemberRole | None:
        member = self.members.get(user_id)
        return MemberRole(member["role"]) if member else None

    def check_member(self, actor: Actor) -> None:
        """Raise unless ``actor`` is a member (any role) of this organisation."""
        if actor.role is not Role.MEMBER or actor.user_id not in self.members:
            raise NotPermittedError(f"{actor.name} is not a member of {self.name}")

    def check_owner(self, actor: Actor) -> None:
        """Raise unless ``actor`` owns this organisation (or is a data bank administrator)."""
        if actor.role is Role.ADMIN:
            return
        if actor.role is not Role.MEMBER or self.role_of(actor.user_id) is not MemberRole.OWNER:
            raise NotPermittedError(f"only an owner of {self.name} manages its members")

    # ---- members -------------------------------------------------------------------------

    def add_member(self, *, user_id: str, name: str, role: MemberRole | str, by: Actor) -> None:
        self.check_owner(by)
        if user_id in self.members:
            raise AlreadyExistsError(f"{name} is already a member", field="user_id")
        self._member_added(user_id=user_id, name=_person(name), role=_role(role).value,
                           by=by.record())

    @event("MemberAdded")
    def _member_added(self, user_id: str, name: str, role: str, by: dict[str, Any]) -> None:
        self.members[user_id] = {"name": name, "role": role}

    def invite(self, *, email: str, role: MemberRole | str = MemberRole.MEMBER, by: Actor) -> None:
        """Invite a person by e-mail; they join when they accept with a verified address."""
        self.check_owner(by)
        email = _email(email)
        if email in self.invitations:
            raise AlreadyExistsError(f"{email} is already invited", field="email")
        self._invited(email=email, role=_role(role).value, by=by.record())

    @event("Invited")
    def _invited(self, email: str, role: str, by: dict[str, Any]) -> None:
        self.invitations[email] = role

    def accept_invitation(self, *, email: str, by: Actor) -> None:
        """Join as invited; ``email`` is the acting member's verified address (from identity)."""
        email = _email(email)
        if by.role is not Role.MEMBER:
            raise NotPermittedError("an invitation is accepted by a member account")
        if email not in self.invitations:
            raise NotFoundError(f"{self.name} has not invited {email}", field="email")
        if by.user_id in self.members:
            raise AlreadyExistsError(f"{by.name} is already a member", field="user_id")
        self._invitation_accepted(email=email, user_id=by.user_id, name=_person(by.name),
                                  role=self.invitations[email], by=by.record())

    @event("InvitationAccepted")
    def _invitation_accepted(self, email: str, user_id: str, name: str, role: str,
                             by: dict[str, Any]) -> None:
        del self.invitations[email]
        self.members[user_id] = {"name": name, "role": role}

    def remove_member(self, *, user_id: str, by: Actor) -> None:
        """Remove a member (owners may also remove themselves while another owner remains)."""
        self.check_owner(by)
        if user_id not in self.members:
            raise NotFoundError("no such member", field="user_id")
        owners = [u for u, m in self.members.items() if m["role"] == MemberRole.OWNER.value]
        if owners == [user_id]:
            raise LastOwnerError("an organisation keeps at least one owner", field="user_id")
        self._member_removed(user_id=user_id, by=by.record())

    @event("MemberRemoved")
    def _member_removed(self, user_id: str, by: dict[str, Any]) -> None:
        del self.members[user_id]

    # ---- sponsorship (maker-spaces) ------------------------------------------------------

    def sponsor(self, startup: "Organisation", *, by: Actor) -> None:
        """A maker-space takes a startup into its programme."""
        self.check_owner(by)
        if self.kind != OrganisationKind.MAKER_SPACE.value:
            raise InvalidStateError("only a maker-space sponsors startups", field="kind")
        if startup.kind != OrganisationKind.STARTUP.value:
            raise InvalidInputError(f"{startup.name} is not a startup", field="organisation_id")
        if str(startup.id) in self.sponsored:
            raise AlreadyExistsError(f"{startup.name} is already sponsored", field="organisation_id")
        self._sponsored(organisation_id=str(startup.id), by=by.record())

    @event("StartupSponsored")
    def _sponsored(self, organisation_id: str, by: dict[str, Any]) -> None:
        self.sponsored.append(organisation_id)

    def end_sponsorship(self, organisation_id: str, *, by: Actor) -> None:
        self.check_owner(by)
        if organisation_id not in self.sponsored:
            raise NotFoundError("that startup is not sponsored", field="organisation_id")
        self._sponsorship_ended(organisation_id=organisation_id, by=by.record())

    @event("SponsorshipEnded")
    def _sponsorship_ended(self, organisation_id: str, by: dict[str, Any]) -> None:
        self.sponsored.remove(organisation_id)


def _role(role: MemberRole | str) -> MemberRole:
    try:
        return MemberRole(role.value if isinstance(role, Enum) else role)
    except ValueError:
        raise InvalidInputError(f"role {role!r} is not owner or member", field="role") from None


def _person(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInputError("a member's name of 1 to 100 characters is required", field="name")
    return name


def _email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInputError(f"{email!r} is not an e-mail address", field="email")
    return email
