"""Waiting for something another thread or process does: poll a condition until it holds or a
deadline passes.

Tests never sleep a fixed time to "let things happen" (too short on a busy machine, wasted time
on a quiet one) and never assert how long something took (performance is measured in bench/).
The deadline here only keeps a broken test from hanging: it is generous, and a test that hits it
fails with what it was waiting for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Long enough for a loaded 2-core CI machine; a condition that needs longer is broken.
DEADLINE_SECONDS = 30.0


def wait_until(condition: Callable[[], T], *, what: str, timeout: float = DEADLINE_SECONDS,
               interval: float = 0.02) -> T:
    """Call ``condition`` until it returns something truthy, and return that; fail the test
    (naming ``what`` and the last answer) if ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        answer = condition()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:.0f} s for {what} "
                                 f"(last answer: {answer!r})")
        time.sleep(interval)
