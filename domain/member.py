"""Member accounts: the people of startups and maker-spaces who sign up and log in.

An account is identified by its e-mail address (lower-cased), so signing up twice with one
address collides in the event store. Membership itself is the organisation's (``Organisation``
holds members and roles); the account keeps only the ids of the organisations it joined and the
one it currently acts for, so that a login can say which organisation a token speaks for. The
service saves the organisation and the account together, so the two never disagree.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, NotPermittedError
from domain.ids import natural_id

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normal_email(email: str) -> str:
    """The e-mail address as accounts are keyed: trimmed and lower-cased; refused if malformed."""
    email = (email or "").strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInputError(f"{email!r} is not an e-mail address", field="email")
    return email


class MemberAccount(Aggregate):
    """A person who uses data for an organisation; the password arrives already hashed."""

    @staticmethod
    def create_id(email: str) -> UUID:
        return natural_id("member", email)

    @classmethod
    def sign_up(cls, *, email: str, name: str, password_hash: str) -> "MemberAccount":
        """Open an account (public sign-up).

        :param email: the login, unique (case-insensitive)
        :param name: the person's name as shown to their organisation, 1 to 100 characters
        :param password_hash: the argon2 hash made by the service
        """
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInputError("a name of 1 to 100 characters is required", field="name")
        return cls(email=normal_email(email), name=name, password_hash=password_hash)

    @event("SignedUp")
    def __init__(self, email: str, name: str, password_hash: str) -> None:
        self.email = email
        self.name = name
        self.password_hash = password_hash
        self.organisation_ids: list[str] = []
        self.current_organisation_id: str | None = None
        self.disabled = False

    def actor(self) -> Actor:
        return Actor(user_id=str(self.id), name=self.name, role=Role.MEMBER,
                     organisation_id=self.current_organisation_id)

    # ---- organisations -------------------------------------------------------------------

    def joined(self, organisation_id: str) -> None:
        """Note a membership (the organisation has recorded it); the new one becomes current."""
        if organisation_id not in self.organisation_ids:
            self._joined(organisation_id=str(organisation_id))

    @event("Joined")
    def _joined(self, organisation_id: str) -> None:
        self.organisation_ids.append(organisation_id)
        self.current_organisation_id = organisation_id

    def left(self, organisation_id: str) -> None:
        if organisation_id in self.organisation_ids:
            self._left(organisation_id=organisation_id)

    @event("Left")
    def _left(self, organisation_id: str) -> None:
        self.organisation_ids.remove(organisation_id)
        if self.current_organisation_id == organisation_id:
            self.current_organisation_id = self.organisation_ids[-1] if self.organisation_ids else None

    def switch_organisation(self, organisation_id: str) -> None:
        """Act for another of one's organisations from the next token on."""
        if organisation_id not in self.organisation_ids:
            raise NotPermittedError(f"{self.name} is not a member of that organisation",
                                    field="organisation_id")
        if organisation_id != self.current_organisation_id:
            self._switched(organisation_id=organisation_id)

    @event("OrganisationSwitched")
    def _switched(self, organisation_id: str) -> None:
        self.current_organisation_id = organisation_id

    # ---- credentials ---------------------------------------------------------------------

    def change_password(self, password_hash: str) -> None:
        self._password_changed(password_hash=password_hash)

    @event("PasswordChanged")
    def _password_changed(self, password_hash: str) -> None:
        self.password_hash = password_hash

    def disable(self, *, by: Actor) -> None:
        if by.role is not Role.ADMIN:
            raise NotPermittedError("only a data bank administrator disables member accounts")
        if not self.disabled:
            self._disabled(by=by.record())

    @event("Disabled")
    def _disabled(self, by: dict[str, Any]) -> None:
        self.disabled = True
