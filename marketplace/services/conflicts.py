"""Optimistic concurrency: two writers that loaded the same aggregate version race to save it; the
loser reloads, decides again on the fresh state and saves, instead of failing the request."""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from eventsourcing.persistence import IntegrityError

T = TypeVar("T")


def retry_on_conflict(attempt: Callable[[], T], tries: int = 8) -> T:
    """Reload-decide-save again when another writer saved the same aggregate version first."""
    for n in range(tries):
        try:
            return attempt()
        except IntegrityError:
            if n == tries - 1:
                raise
            # Jittered, growing backoff so the racing writers do not collide again in lockstep.
            time.sleep(random.uniform(0, 0.005 * 2**n))
    raise AssertionError("unreachable")
