"""Staff accounts: administrators, reviewers and department publishers who log in."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, NotPermittedError
from domain.ids import natural_id

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,39}$")
STAFF_ROLES = (Role.ADMIN, Role.REVIEWER, Role.PUBLISHER)


class StaffAccount(Aggregate):
    """A person who works in the data bank; the password arrives already hashed."""

    @staticmethod
    def create_id(username: str) -> UUID:
        return natural_id("staff", username)

    @classmethod
    def open(cls, *, username: str, name: str, role: Role, department_id: str | None,
             password_hash: str, by: Actor | None) -> "StaffAccount":
        """Open an account; ``by`` is None only for the first administrator (bootstrap)."""
        if by is not None and by.role is not Role.ADMIN:
            raise NotPermittedError("only a data bank administrator opens staff accounts")
        username = (username or "").strip().lower()
        if not _USERNAME.match(username):
            raise InvalidInputError(
                "a username is 3 to 40 lower-case letters, digits, '.', '_' or '-'", field="username")
        if role not in STAFF_ROLES:
            raise InvalidInputError(f"{role.value} is not a staff role", field="role")
        if role is Role.PUBLISHER and not department_id:
            raise InvalidInputError("a publisher publishes for a department", field="department_id")
        name = (name or "").strip() or username
        return cls(username=username, name=name[:100], role=role.value, department_id=department_id,
                   password_hash=password_hash, by=by.record() if by else None)

    @event("Opened")
    def __init__(self, username: str, name: str, role: str, department_id: str | None,
                 password_hash: str, by: dict[str, Any] | None) -> None:
        self.username = username
        self.name = name
        self.role = role
        self.department_id = department_id
        self.password_hash = password_hash
        self.disabled = False

    def actor(self) -> Actor:
        return Actor(user_id=str(self.id), name=self.name, role=Role(self.role),
                     department_id=self.department_id)

    def change_password(self, password_hash: str) -> None:
        self._password_changed(password_hash=password_hash)

    @event("PasswordChanged")
    def _password_changed(self, password_hash: str) -> None:
        self.password_hash = password_hash

    def disable(self, *, by: Actor) -> None:
        if by.role is not Role.ADMIN:
            raise NotPermittedError("only a data bank administrator disables staff accounts")
        if not self.disabled:
            self._disabled(by=by.record())

    @event("Disabled")
    def _disabled(self, by: dict[str, Any]) -> None:
        self.disabled = True
