"""Correctly signed tokens that say something impossible are refused with 401, never a 500
(issue 9: ``exp=1e20`` overflowed the date conversion, an unknown role the role lookup)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient

from marketplace.bootstrap import DataBank, build_in_memory
from marketplace.identity.signing import sign
from marketplace.settings import Settings
from marketplace.web.app import create_app

VIEWER = "{ viewer { id role } }"


@pytest.fixture
def bank() -> Iterator[DataBank]:
    built = build_in_memory(Settings(escalation_interval_seconds=0))
    yield built


@pytest.fixture
def http(bank: DataBank) -> Iterator[TestClient]:
    with TestClient(create_app(bank)) as client:
        yield client


def _token(bank: DataBank, **overrides: object) -> str:
    now = int(datetime.now(timezone.utc).timestamp())
    claims = {"iss": bank.tokens.issuer, "aud": bank.tokens.audience, "sub": "u-1", "iat": now,
              "nbf": now, "exp": now + 600, "jti": "j-1", "name": "某人", "role": "admin",
              "dept": None, "org": None, **overrides}
    return sign(bank.keyring, claims)


def _viewer(http: TestClient, token: str):
    return http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"})


def test_a_well_signed_token_is_accepted(bank: DataBank, http: TestClient) -> None:
    response = _viewer(http, _token(bank))
    assert response.status_code == 200
    assert response.json()["data"]["viewer"] == {"id": "u-1", "role": "ADMIN"}


@pytest.mark.parametrize("claims", [{"exp": 1e20}, {"iat": 1e20}, {"nbf": -1e20},
                                    {"exp": float("nan")}, {"exp": float("inf")}])
def test_a_signed_token_with_a_time_beyond_any_date_is_unauthenticated(
        bank: DataBank, http: TestClient, claims: dict) -> None:
    response = _viewer(http, _token(bank, **claims))
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert next(iter(claims)) in error["message"]
    assert "reference" not in error["message"]


@pytest.mark.parametrize("role", ["superuser", "ADMIN", "anonymous", ""])
def test_a_signed_token_with_a_role_the_bank_does_not_issue_is_unauthenticated(
        bank: DataBank, http: TestClient, role: str) -> None:
    response = _viewer(http, _token(bank, role=role))
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "role" in error["message"]
