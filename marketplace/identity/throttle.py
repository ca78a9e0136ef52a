"""Login throttling: growing locks after failed logins, per account and per client address.

A password guesser is slowed down wherever it comes from: after ``free_failures`` failed logins
of one account the account is locked for 1 s, and every further failure doubles the lock
(2, 4, 8 … s) up to ``max_lock``; the count is forgotten only after ``window`` seconds with
neither a failure nor a lock (so the longest lock is reached, and waiting it out buys one guess); one client address gets the same
treatment after ``address_free_failures`` failures over any accounts (larger, because an office
or a NAT shares one address). A locked attempt is refused before the password is looked at, so
the lock answers the same whether the guess was right — no oracle while locked. A successful
login clears its account's failures, not its address's (a guesser with one valid account must not
wash its address clean). Locks apply to names that do not exist just as to names that do, so
they reveal nothing about which accounts exist.

State lives in process memory: with N API workers each keeps its own counts, so a guesser
spreading over the workers gets up to N times the attempts (still growing delays per worker).
The number of names and addresses remembered is bounded (``max_tracked``); a spray of fresh names
evicts unlocked entries first, so it cannot push a locked account out of memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: How far the eviction looks for an unlocked entry before it drops the oldest regardless.
_EVICTION_SCAN = 64


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Counts failed logins and says how long the next attempt must wait."""

    def __init__(self, *, free_failures: int = 5, address_free_failures: int = 20,
                 window: float = 15 * 60, first_lock: float = 1.0, max_lock: float = 15 * 60,
                 max_tracked: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        """
        :param free_failures: failures of one account within ``window`` before it is locked
        :param address_free_failures: failures from one client address before it is locked
        :param window: quiet seconds (no failure, no lock) after which failures are forgotten
        :param first_lock: seconds of the first lock; each further failure doubles it
        :param max_lock: the longest lock, in seconds
        :param max_tracked: most accounts and addresses remembered at once
        :param clock: seconds, monotonic (inject to control time in tests)
        """
        if free_failures < 1 or address_free_failures < 1 or max_tracked < 1:
            raise ValueError("free failures and max_tracked must be positive")
        self.free_failures = free_failures
        self.address_free_failures = address_free_failures
        self.window = window
        self.first_lock = first_lock
        self.max_lock = max_lock
        self.max_tracked = max_tracked
        self.clock = clock
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, account: str, address: str) -> int:
        """Whole seconds (rounded up) before a login of ``account`` from ``address`` may be
        tried; 0 when it may be tried now."""
        now = self.clock()
        with self._lock:
            until = max((record.locked_until for record in
                         (self._records.get(key) for key in self._keys(account, address))
                         if record is not None), default=0.0)
        return max(0, math.ceil(until - now))

    def failed(self, account: str, address: str) -> None:
        """Count a failed login (wrong password, unknown or disabled account)."""
        now = self.clock()
        account_key, address_key = self._keys(account, address)
        with self._lock:
            self._count(account_key, self.free_failures, now)
            self._count(address_key, self.address_free_failures, now)

    def succeeded(self, account: str) -> None:
        """Clear the account's failures after a successful login."""
        with self._lock:
            self._records.pop(("account", _normal(account)), None)

    def tracked(self) -> int:
        """How many accounts and addresses are remembered."""
        return len(self._records)

    def _count(self, key: tuple[str, str], free: int, now: float) -> None:
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = _Record()
            self._evict(now)
        else:
            self._records.move_to_end(key)
        if now >= max(record.last_failure, record.locked_until) + self.window:
            record.failures = 0
        record.failures += 1
        record.last_failure = now
        beyond = record.failures - free
        if beyond >= 0:
            lock = min(self.first_lock * 2.0 ** min(beyond, 64), self.max_lock)
            record.locked_until = max(record.locked_until, now + lock)

    def _evict(self, now: float) -> None:
        records = self._records
        while len(records) > self.max_tracked:
            for _ in range(min(_EVICTION_SCAN, len(records) - 1)):
                key, record = next(iter(records.items()))
                if record.locked_until <= now:
                    del records[key]
                    break
                records.move_to_end(key)  # locked: keep it, look at the next oldest
            else:
                records.popitem(last=False)  # everything nearby is locked: drop the oldest

    @staticmethod
    def _keys(account: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("account", _normal(account)), ("address", address or "")


def _normal(account: str) -> str:
    # Staff usernames and member e-mails are both matched case-insensitively, trimmed.
    return (account or "").strip().lower()
