"""Password guessing through ``login`` (issue 9: 60 wrong admin passwords took 7.4 s, and ten
aliased ``login`` fields in one request tried ten passwords). Failed logins lock the account and
the client address with growing delays; a locked attempt is RATE_LIMITED (HTTP 429, Retry-After)
without the password being looked at; one ``login`` per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from domain.actors import Role
from marketplace.bootstrap import DataBank, build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.api import operation
from support.marketplace import ADMIN, PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class CountingHasher:
    """Wraps the bank's password hasher and counts the passwords it checks."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.checked = 0

    def verify(self, hashed: str, password: str) -> bool:
        self.checked += 1
        return self.hasher.verify(hashed, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hasher, name)


@pytest.fixture
def bank() -> Iterator[DataBank]:
    built = build_in_memory(Settings(escalation_interval_seconds=0))
    built.staff.open_account(username="admin", name="管理员", role=Role.ADMIN, password=PASSWORD,
                             by=ADMIN)
    built.members.sign_up(email="founder@startup.example", name="创始人", password=PASSWORD)
    counting = CountingHasher(built.staff.hasher)
    built.staff.hasher = built.members.hasher = counting
    built.login_throttle.clock = Clock()
    yield built


@pytest.fixture
def http(bank: DataBank) -> Iterator[TestClient]:
    with TestClient(create_app(bank), client=("203.0.113.7", 40000)) as client:
        yield client


def _login(http: TestClient, username: str, password: str):
    return http.post("/graphql", json={"query": operation("Login"),
                                       "variables": {"username": username, "password": password}})


def _checked(bank: DataBank) -> int:
    return bank.staff.hasher.checked


@pytest.mark.parametrize("username", ["admin", "founder@startup.example"])
def test_sixty_wrong_passwords_are_throttled_and_checked_only_five_times(
        bank: DataBank, http: TestClient, username: str) -> None:
    answers = [_login(http, username, f"guess-{n}") for n in range(60)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert all(a.json()["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
               for a in answers[:5])
    for refused in answers[5:]:
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] == 1
        assert refused.json()["data"] == {"login": None}
    assert _checked(bank) == 5


def test_the_right_password_is_refused_while_locked_and_works_once_the_lock_ends(
        bank: DataBank, http: TestClient) -> None:
    for n in range(5):
        _login(http, "admin", f"guess-{n}")
    checked = _checked(bank)
    locked = _login(http, "admin", PASSWORD)
    assert locked.status_code == 429  # the same answer as a wrong guess: no oracle
    assert locked.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert _checked(bank) == checked
    bank.login_throttle.clock.now += int(locked.headers["Retry-After"])
    opened = _login(http, "admin", PASSWORD)
    assert opened.status_code == 200
    assert opened.json()["data"]["login"]["token"]
    # the success cleared the account's failures: a later slip is not locked at once
    assert _login(http, "admin", "typo").json()["data"]["login"]["errors"][0]["code"] == \
        "INVALID_CREDENTIALS"


def test_the_lock_grows_with_each_failure_after_it(bank: DataBank, http: TestClient) -> None:
    for n in range(5):
        _login(http, "admin", f"guess-{n}")
    waits = []
    for n in range(6):
        refused = _login(http, "admin", "x")
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        bank.login_throttle.clock.now += wait
        assert _login(http, "admin", f"again-{n}").status_code == 200  # tried, and wrong
    assert waits == [1, 2, 4, 8, 16, 32]


def test_one_address_guessing_many_accounts_is_throttled(bank: DataBank, http: TestClient) -> None:
    for n in range(20):
        assert _login(http, f"user{n}", "guess").status_code == 200
    refused = _login(http, "admin", PASSWORD)
    assert refused.status_code == 429
    # another client address is not held back by this one
    with TestClient(create_app(bank), client=("198.51.100.9", 40000)) as other:
        assert _login(other, "admin", PASSWORD).json()["data"]["login"]["token"]


def test_ten_aliased_logins_in_one_request_are_refused_before_any_password_is_tried(
        bank: DataBank, http: TestClient) -> None:
    fields = " ".join(f'a{n}: login(username: "admin", password: "guess-{n}") {{ token }}'
                      for n in range(10))
    response = http.post("/graphql", json={"query": f"mutation {{ {fields} }}"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "login" in error["message"] and "one" in error["message"]
    assert error["extensions"]["maximum"] == 1 and error["extensions"]["actual"] == 10
    assert _checked(bank) == 0


def test_logins_hidden_in_fragments_count_too(bank: DataBank, http: TestClient) -> None:
    query = ('mutation { ...A ... on Mutation { b: login(username: "admin", password: "y") '
             '{ token } } } fragment A on Mutation { a: login(username: "admin", password: "x") '
             '{ token } }')
    response = http.post("/graphql", json={"query": query})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert _checked(bank) == 0


def test_one_login_beside_other_fields_still_runs(http: TestClient) -> None:
    response = http.post("/graphql", json={"query": (
        f'mutation {{ login(username: "admin", password: "{PASSWORD}") {{ token }} }}')})
    assert response.status_code == 200 and response.json()["data"]["login"]["token"]
