"""Password hashing and the strength check."""

from __future__ import annotations

import pytest

from marketplace.identity import PasswordHasher, check_password_strength


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(fast=True)


def test_a_hashed_password_verifies(hasher: PasswordHasher) -> None:
    hashed = hasher.hash("皖西白鹅-2025")
    assert hashed.startswith("$argon2id$")
    assert "皖西白鹅" not in hashed
    assert hasher.verify(hashed, "皖西白鹅-2025") is True


def test_a_wrong_password_returns_false_without_raising(hasher: PasswordHasher) -> None:
    assert hasher.verify(hasher.hash("correct horse"), "Correct horse") is False


def test_the_same_password_hashes_differently_each_time(hasher: PasswordHasher) -> None:
    assert hasher.hash("same password") != hasher.hash("same password")


def test_a_corrupt_stored_hash_is_a_value_error_not_a_failed_login(hasher: PasswordHasher) -> None:
    with pytest.raises(ValueError):
        hasher.verify("not-a-hash", "whatever")


def test_a_fast_hash_needs_rehashing_under_the_production_parameters(hasher: PasswordHasher) -> None:
    fast_hash = hasher.hash("secret password")
    assert hasher.needs_rehash(fast_hash) is False
    assert PasswordHasher().needs_rehash(fast_hash) is True


def test_a_dummy_verification_always_fails(hasher: PasswordHasher) -> None:
    assert hasher.verify_dummy("not a password of anyone") is False


@pytest.mark.parametrize("password", ["", "short", "1234567", "六安瓜片"])
def test_passwords_shorter_than_eight_characters_are_refused(password: str) -> None:
    problem = check_password_strength(password)
    assert problem is not None and "8" in problem


@pytest.mark.parametrize("password", ["password", "12345678", "PassWord1", "88888888", "woaini1314",
                                      "aaaaaaaaaa"])
def test_common_passwords_are_refused(password: str) -> None:
    problem = check_password_strength(password)
    assert problem is not None and "common" in problem


@pytest.mark.parametrize("password", ["六安瓜片霍山黄芽", "tea-of-dabie-mountains", "Kq8!vz2#Lm"])
def test_reasonable_passwords_pass_the_strength_check(password: str) -> None:
    assert check_password_strength(password) is None
