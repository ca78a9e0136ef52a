"""The one login rule (services/login.py), shared by staff and members."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from domain.actors import Actor, Role
from marketplace.identity import PasswordHasher
from marketplace.identity.throttle import LoginThrottle
from marketplace.services.login import LoginLocked, check_password, log_in

PASSWORD = "a-long-enough-secret"


@dataclass
class _Account:
    password_hash: str
    disabled: bool = False
    changes: list[str] = field(default_factory=list)

    def change_password(self, password_hash: str) -> None:
        self.password_hash = password_hash
        self.changes.append(password_hash)

    def actor(self) -> Actor:
        return Actor(user_id="u1", name="李明", role=Role.ADMIN)


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(fast=True)


def test_an_unknown_name_costs_a_hash_check_and_fails(hasher: PasswordHasher) -> None:
    checked: list[str] = []
    original = hasher.verify_dummy
    hasher.verify_dummy = lambda password: checked.append(password) or original(password)  # type: ignore[method-assign]
    assert check_password(None, PASSWORD, hasher, lambda a: None) is None
    assert checked == [PASSWORD]


def test_a_disabled_account_fails_like_a_wrong_password(hasher: PasswordHasher) -> None:
    account = _Account(hasher.hash(PASSWORD), disabled=True)
    assert check_password(account, PASSWORD, hasher, lambda a: None) is None
    assert check_password(_Account(hasher.hash(PASSWORD)), "wrong-password", hasher,
                          lambda a: None) is None


def test_an_old_hash_is_upgraded_on_a_successful_login(hasher: PasswordHasher) -> None:
    account = _Account(PasswordHasher(fast=False).hash(PASSWORD))
    saved: list[_Account] = []
    assert check_password(account, PASSWORD, hasher, saved.append) is account
    assert saved == [account] and len(account.changes) == 1
    assert not hasher.needs_rehash(account.password_hash)


def test_names_with_an_at_sign_are_members_and_failures_lock(hasher: PasswordHasher) -> None:
    account = _Account(hasher.hash(PASSWORD))
    asked: list[str] = []

    def staff(name: str, password: str) -> _Account | None:
        asked.append("staff")
        return account if password == PASSWORD else None

    def members(name: str, password: str) -> _Account | None:
        asked.append("member")
        return account if password == PASSWORD else None

    throttle = LoginThrottle(free_failures=1, clock=lambda: 0.0)
    assert log_in("li@startup.example", PASSWORD, "10.0.0.1", throttle=throttle, staff=staff,
                  members=members) == account.actor()
    assert log_in("admin", "wrong-password", "10.0.0.1", throttle=throttle, staff=staff,
                  members=members) is None
    assert asked == ["member", "staff"]
    with pytest.raises(LoginLocked) as locked:
        log_in("admin", PASSWORD, "10.0.0.1", throttle=throttle, staff=staff, members=members)
    assert locked.value.retry_after == 1
    assert asked == ["member", "staff"]  # refused before the password was looked at
