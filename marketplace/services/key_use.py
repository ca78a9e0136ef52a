"""The day each API key was last used, recorded off the data access path (an event a key a day,
never an event a request)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from datetime import date, datetime, timezone
from typing import Callable

from domain.calendar import china_date

log = logging.getLogger(__name__)


class KeyUseRecorder:
    """Records the day each API key was last used, off the hot path.

    ``note(key_id)`` costs a set lookup per request: only the first use of a key on a new
    China-time day (per process) queues a touch, which a worker thread hands to ``touch(key_id,
    day)`` (``ApiKeys.touch_api_key``; the aggregate itself records an event only for a later
    day, so several processes touching the same key on the same day write one event, or a few
    that change nothing). A touch that fails is forgotten so the next use retries it.

    Losing touches is acceptable: queued touches die with a crashed process (the key's
    last-used day may then stay one day behind until its next use on a later day), and the queue
    is bounded (``max_pending``: beyond it new touches are dropped, never the request).

    :param touch: ``(key_id, day)``, called on the worker thread (its answer is ignored)
    :param clock: now, timezone-aware (settable in tests)
    """

    def __init__(self, touch: Callable[[str, date], object], *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 max_pending: int = 10_000) -> None:
        self.touch = touch
        self.clock = clock
        self.max_pending = max_pending
        # (day, keys already touched or queued that day), replaced as one value so the lock-free
        # check below never pairs a new day with yesterday's keys
        self._today: tuple[date | None, set[str]] = (None, set())
        self._queue: deque[tuple[str, date]] = deque()
        self._cv = threading.Condition(threading.Lock())
        self._busy = 0  # touches queued or running
        self._thread: threading.Thread | None = None
        self._closed = False

    def note(self, key_id: str) -> None:
        """The key was just used (authenticated): queue its first use of the day."""
        day = china_date(self.clock())
        known_day, seen = self._today
        if day == known_day and key_id in seen:  # the hot path: no lock
            return
        with self._cv:
            if day != self._today[0]:  # a new day: forget yesterday's keys (bounded memory)
                self._today = (day, set())
            seen = self._today[1]
            if key_id in seen or self._closed or self._busy >= self.max_pending:
                return
            seen.add(key_id)
            self._queue.append((key_id, day))
            self._busy += 1
            if self._thread is None:  # started lazily: safe to build before a fork
                self._thread = threading.Thread(target=self._run, name="api-key-touches", daemon=True)
                self._thread.start()
            self._cv.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued touch has been handed over; False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: self._busy == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Hand over what is queued (for at most ``timeout``), then stop the worker."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return
                key_id, day = self._queue.popleft()
            try:
                self.touch(key_id, day)
            except Exception:  # never the request's problem; retried on the key's next use
                log.exception("recording the use of API key %s on %s failed", key_id, day)
                with self._cv:
                    if self._today[0] == day:
                        self._today[1].discard(key_id)
            with self._cv:
                self._busy -= 1
                self._cv.notify_all()
