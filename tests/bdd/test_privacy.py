"""Binds features/privacy/ to the shared step library (tests/bdd/conftest.py)."""

from pytest_bdd import scenarios

scenarios("privacy")
