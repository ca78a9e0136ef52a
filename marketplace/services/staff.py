"""Staff accounts and login: who may act for the data bank, and proof that they are who they say."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.actors import Actor, Role
from domain.errors import AlreadyExistsError, InvalidInputError
from domain.staff import StaffAccount
from marketplace.identity import PasswordHasher, check_password_strength
from marketplace.services.login import check_password


class StaffDirectory(Application):
    """Staff accounts (aggregates); passwords are hashed with argon2 before they reach an event."""

    name = "Staff"

    def __init__(self, env: dict[str, str] | None = None, *, hasher: PasswordHasher) -> None:
        """
        :param env: the eventsourcing persistence environment
        :param hasher: the password hasher (fast parameters only in tests and the demo)
        """
        super().__init__(env)
        self.hasher = hasher

    def open_account(self, *, username: str, name: str, role: Role, password: str,
                     department_id: str | None = None, by: Actor | None) -> StaffAccount:
        problem = check_password_strength(password)
        if problem:
            raise InvalidInputError(problem, field="password")
        account = StaffAccount.open(username=username, name=name, role=role,
                                    department_id=department_id,
                                    password_hash=self.hasher.hash(password), by=by)
        try:
            self.save(account)
        except IntegrityError:
            raise AlreadyExistsError(f"the username {account.username!r} is taken",
                                     field="username") from None
        return account

    def get(self, account_id: UUID | str) -> StaffAccount | None:
        try:
            found: object = self.repository.get(account_id if isinstance(account_id, UUID) else UUID(str(account_id)))
        except (AggregateNotFoundError, ValueError):
            return None
        return found if isinstance(found, StaffAccount) else None

    def find_by_username(self, username: str) -> StaffAccount | None:
        return self.get(StaffAccount.create_id((username or "").strip().lower()))

    def authenticate(self, username: str, password: str) -> StaffAccount | None:
        """The account when the password matches and it is enabled; None otherwise (no hint why)."""
        return check_password(self.find_by_username(username), password, self.hasher, self.save)
