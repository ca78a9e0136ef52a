"""The login throttle on its own: growing locks per account and per client address, judged by an
injected clock (no sleeps)."""

from __future__ import annotations

import pytest

from marketplace.identity.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(clock=clock)


def _fail_until_locked(throttle: LoginThrottle, account: str = "admin",
                       address: str = "10.0.0.1") -> int:
    tried = 0
    while throttle.wait(account, address) == 0:
        throttle.failed(account, address)
        tried += 1
    return tried


def test_five_failures_lock_the_account_for_a_second(throttle: LoginThrottle) -> None:
    assert _fail_until_locked(throttle) == 5
    assert throttle.wait("admin", "10.0.0.1") == 1
    # the same account from another address is locked too: per account
    assert throttle.wait("admin", "10.9.9.9") == 1
    # another account from the first address is not (yet): the address has its own, larger count
    assert throttle.wait("reviewer", "10.0.0.1") == 0


def test_each_further_failure_doubles_the_lock_up_to_fifteen_minutes(
        throttle: LoginThrottle, clock: Clock) -> None:
    _fail_until_locked(throttle)
    locks = []
    for _ in range(14):
        wait = throttle.wait("admin", "10.0.0.1")
        locks.append(wait)
        clock.now += wait
        assert throttle.wait("admin", "10.0.0.1") == 0
        throttle.failed("admin", "10.0.0.1")
    assert locks[:8] == [1, 2, 4, 8, 16, 32, 64, 128]
    assert max(locks) == 900 and all(lock <= 900 for lock in locks)


def test_an_account_name_is_judged_whatever_its_case_or_spaces(throttle: LoginThrottle) -> None:
    for name in ("Admin", " admin", "ADMIN ", "admin", "aDmin"):
        throttle.failed(name, "10.0.0.1")
    assert throttle.wait("admin", "10.0.0.2") == 1


def test_a_success_resets_the_account_but_not_the_address(throttle: LoginThrottle,
                                                          clock: Clock) -> None:
    for n in range(4):
        throttle.failed(f"user{n}", "10.0.0.1")
        throttle.failed("admin", "10.0.0.7")
    throttle.succeeded("admin")
    throttle.failed("admin", "10.0.0.7")
    assert throttle.wait("admin", "10.0.0.7") == 0  # one failure since the success
    for n in range(16):
        throttle.failed(f"other{n}", "10.0.0.1")
    assert throttle.wait("someone", "10.0.0.1") == 1  # 20 failures from one address


def test_failures_older_than_the_window_are_forgotten(throttle: LoginThrottle,
                                                     clock: Clock) -> None:
    for _ in range(4):
        throttle.failed("admin", "10.0.0.1")
    clock.now += 15 * 60 + 1
    throttle.failed("admin", "10.0.0.1")
    assert throttle.wait("admin", "10.0.0.1") == 0


def test_the_throttle_remembers_a_bounded_number_of_names(clock: Clock) -> None:
    throttle = LoginThrottle(clock=clock, max_tracked=100)
    _fail_until_locked(throttle, "admin", "10.0.0.1")
    for n in range(1000):  # a spray of names (each from its own address) cannot grow memory...
        throttle.failed(f"name{n}", f"10.1.{n // 250}.{n % 250}")
    assert throttle.tracked() <= 100
    # ...nor push a locked account out of memory while its lock lasts
    assert throttle.wait("admin", "10.2.0.1") > 0


def test_the_wait_is_whole_seconds_rounded_up(throttle: LoginThrottle, clock: Clock) -> None:
    _fail_until_locked(throttle)
    clock.now += 0.25
    assert throttle.wait("admin", "10.0.0.1") == 1
    clock.now += 0.75
    assert throttle.wait("admin", "10.0.0.1") == 0
