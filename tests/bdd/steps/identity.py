"""Identity steps (features/identity/): throttled password guessing at login."""

from __future__ import annotations

from typing import Any

from bdd.steps.core import PASSWORD
from pytest_bdd import parsers, then, when
from support.api import operation


class _Seconds:
    """A settable monotonic clock for the login throttle."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _throttle_clock(world: dict) -> _Seconds:
    if "throttle_clock" not in world:
        world["throttle_clock"] = world["bank"].login_throttle.clock = _Seconds()
    return world["throttle_clock"]


def _try_login(world: dict, username: str, password: str) -> Any:
    _throttle_clock(world)
    return world["api"].http.post("/graphql", json={
        "query": operation("Login"), "variables": {"username": username, "password": password}})


@when(parsers.re(r'someone tries (?P<count>\d+) wrong passwords? for "(?P<username>[^"]+)"$'))
def wrong_passwords(world: dict, count: str, username: str) -> None:
    world["response"] = None
    for n in range(int(count)):
        world["response"] = _try_login(world, username, f"wrong-guess-{n}")


@when(parsers.parse('someone tries {count:d} passwords for "{username}" in one request'))
def aliased_passwords(world: dict, count: int, username: str) -> None:
    fields = " ".join(f'a{n}: login(username: "{username}", password: "guess-{n}") {{ token }}'
                      for n in range(count))
    world["response"] = world["api"].http.post("/graphql", json={"query": f"mutation {{ {fields} }}"})


@when(parsers.re(r"(?P<seconds>\d+) seconds? pass(?:es)?$"))
def seconds_pass(world: dict, seconds: str) -> None:
    _throttle_clock(world).now += int(seconds)


@then(parsers.re(r'the last attempt is refused as "(?P<code>[A-Z_]+)", to be retried after '
                 r'(?P<seconds>\d+) seconds?$'))
def last_attempt_refused(world: dict, code: str, seconds: str) -> None:
    response = world["response"]
    assert response.status_code == 429, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert response.headers["Retry-After"] == seconds


@then(parsers.parse('the right password of "{username}" is refused as well'))
def right_password_refused(world: dict, username: str) -> None:
    response = _try_login(world, username, PASSWORD)
    assert response.status_code == 429 and response.json()["data"] == {"login": None}


@then(parsers.parse('"{username}" logs in with the right password'))
def logs_in(world: dict, username: str) -> None:
    response = _try_login(world, username, PASSWORD)
    assert response.status_code == 200 and response.json()["data"]["login"]["token"]


@then(parsers.parse('the request is refused as "{code}" naming "{name}"'))
def request_refused_naming(world: dict, code: str, name: str) -> None:
    response = world["response"]
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code and name in error["message"]
