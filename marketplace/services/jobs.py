"""Background jobs of a running server: a function called every N seconds on its own thread."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)


class PeriodicJob:
    """Calls ``run`` every ``interval_seconds`` (first after one interval) until stopped.

    A failing run is logged and tried again at the next tick: a job must never take the server
    down. ``interval_seconds <= 0`` disables the job (``start`` does nothing).
    """

    def __init__(self, name: str, interval_seconds: float, run: Callable[[], Any]) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self.run = run
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and self.interval_seconds > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=f"job-{self.name}", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                self.run()
            except Exception:
                log.exception("the background job %s failed; retrying in %s s", self.name,
                              self.interval_seconds)
            self.runs += 1
