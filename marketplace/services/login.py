"""Login: the one rule for staff and members alike.

Staff log in with a username, members with an e-mail address; past the lookup both go through
the same steps, kept here so they cannot drift apart: the throttle is asked first (a locked
attempt never reaches the password), an unknown name costs a hash check like a known one (timing
does not reveal which accounts exist), a disabled account fails like a wrong password (no hint
why), and a hash made with older parameters is upgraded on a successful login.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from domain.actors import Actor
from marketplace.identity import PasswordHasher
from marketplace.identity.throttle import LoginThrottle


class PasswordAccount(Protocol):
    """What the rule needs of an account aggregate (StaffAccount, MemberAccount)."""

    disabled: bool
    password_hash: str

    def change_password(self, password_hash: str) -> None: ...

    def actor(self) -> Actor: ...


AccountT = TypeVar("AccountT", bound=PasswordAccount)


class Authenticator(Protocol):
    """Looks an account up by the name it logs in with and checks the password."""

    def __call__(self, name: str, password: str) -> PasswordAccount | None: ...


class LoginLocked(Exception):
    """Too many failed logins for this name or from this address: try again later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins for this account or from this address: "
                         f"try again in {retry_after} s")
        self.retry_after = retry_after


def check_password(account: AccountT | None, password: str, hasher: PasswordHasher,
                   save: Callable[[AccountT], object]) -> AccountT | None:
    """The account when the password matches and it is enabled; None otherwise (no hint why).

    :param account: the account the name found, or None when there is none
    :param save: stores the account after its hash was upgraded
    """
    if account is None:
        # Spend the same time as a real check so timing does not reveal names.
        hasher.verify_dummy(password)
        return None
    if account.disabled or not hasher.verify(account.password_hash, password):
        return None
    if hasher.needs_rehash(account.password_hash):
        account.change_password(hasher.hash(password))
        save(account)
    return account


def log_in(name: str, password: str, address: str, *, throttle: LoginThrottle,
           staff: Authenticator, members: Authenticator) -> Actor | None:
    """The actor whose name and password these are, or None (the same for every failure).

    Raises LoginLocked, before the password is looked at, while the name or address is locked.

    :param address: the client address (the throttle counts failures per address too)
    :param staff: authenticates a staff username
    :param members: authenticates a member's e-mail address (names with an ``@``)
    """
    wait = throttle.wait(name, address)
    if wait:
        # Refused before the password is looked at: a locked guess learns nothing.
        raise LoginLocked(wait)
    account = (members if "@" in name else staff)(name, password)
    if account is None:
        throttle.failed(name, address)
        return None
    throttle.succeeded(name)
    return account.actor()
