"""Staff passwords: Argon2id hashes (argon2-cffi), and a minimal strength check."""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8

# A tiny deny-list of the passwords tried first (global leak lists plus local favourites such as
# 88888888 and woaini1314). Compared case-insensitively. Not a substitute for a breach corpus.
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "passw0rd", "12345678", "123456789", "1234567890",
    "87654321", "11111111", "00000000", "88888888", "66666666", "12341234", "11223344",
    "qwerty123", "qwertyui", "1qaz2wsx", "1q2w3e4r", "abc12345", "abcd1234", "a1234567",
    "admin123", "administrator", "iloveyou", "woaini1314", "woaini520", "5201314520",
    "luan1234", "luan123456", "databank", "changeme",
})


def check_password_strength(password: str) -> str | None:
    """The problem with a new password, in a sentence for the user, or None when acceptable."""
    if len(password) < MIN_LENGTH:
        return f"A password needs at least {MIN_LENGTH} characters."
    if password.lower() in COMMON_PASSWORDS or len(set(password)) == 1:
        return "This password is too common; choose one that is hard to guess."
    return None


class PasswordHasher:
    """Hashes and checks passwords with Argon2id.

    The default parameters are argon2-cffi's (RFC 9106 low-memory profile: 64 MiB, 3 passes).
    ``fast=True`` uses 1 pass over 8 KiB — only for tests and seeding the demo, where hundreds of
    accounts are hashed and nothing real is protected. A fast hash reports ``needs_rehash`` under
    the default hasher, so a real deployment upgrades it at the next login.
    """

    def __init__(self, *, fast: bool = False) -> None:
        """:param fast: cheap parameters for tests and the demo seeding only (never production)"""
        if fast:
            self._hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        else:
            self._hasher = argon2.PasswordHasher()
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        """The encoded hash (``$argon2id$...``), salted, to store."""
        return self._hasher.hash(password)

    def verify(self, hash: str, password: str) -> bool:
        """True when the password matches; False for a wrong password.

        Raises ValueError only when ``hash`` is not an Argon2 hash at all (corrupt account data,
        a bug to surface rather than a failed login).
        """
        try:
            return self._hasher.verify(hash, password)
        except VerifyMismatchError:
            return False
        except InvalidHashError:
            raise ValueError("the stored password hash is not an Argon2 hash") from None
        except VerificationError:
            return False

    def verify_dummy(self, password: str) -> bool:
        """Spend the time of one verification and return False (for unknown user names, so
        response times do not reveal which accounts exist)."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hash("not a password of anyone")
        self.verify(self._dummy_hash, password)
        return False

    def needs_rehash(self, hash: str) -> bool:
        """True when the hash was made with other parameters than this hasher's."""
        try:
            return self._hasher.check_needs_rehash(hash)
        except InvalidHashError:
            raise ValueError("the stored password hash is not an Argon2 hash") from None
