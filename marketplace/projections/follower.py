"""Follow an application's notification log into a read model, by polling.

SQLite's recorder cannot push notifications (no ``subscribe``), so a follower polls; in-process
writers call ``catch_up()`` right after saving, so a person sees their own change at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol, Sequence

from eventsourcing.application import Application

from marketplace.observability.metrics import PROJECTION_EVENTS

log = logging.getLogger(__name__)


class ReadModel(Protocol):
    def position(self) -> int: ...

    def process(self, events: Sequence[tuple[int, Any]]) -> None: ...

    def reset(self) -> None: ...


class Follower:
    """Keeps one read model up to date with one application's log.

    :param app: the application whose notification log is followed
    :param view: the read model (writes its rows and position in one transaction)
    :param batch_size: notifications read and applied per transaction
    :param poll_seconds: the pause between polls when the log has nothing new
    """

    def __init__(self, app: Application, view: ReadModel, *, batch_size: int = 500,
                 poll_seconds: float = 0.2) -> None:
        self.app = app
        self.view = view
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        #: Counts the batches applied; caches built from the read model compare it to know
        #: when to drop what they hold. It also moves when another process advanced a shared
        #: read model (PostgreSQL, several workers): the worker that applies a batch is not
        #: the only one whose caches it makes stale.
        self.generation = 0
        self._seen_position = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: this follower's name in the metrics (its read model's class: one per kind of model)
        self.name = type(view).__name__
        self._applied = PROJECTION_EVENTS.labels(self.name)

    def catch_up(self) -> int:
        """Apply everything new in the log; returns how many notifications were applied."""
        applied = 0
        with self._lock:
            while True:
                position = self.view.position()
                if position != self._seen_position:  # moved, by us or by another process
                    self._seen_position = position
                    self.generation += 1
                start = position + 1
                # The recorder, not the notification log: the log caps a read at its section size (10).
                notifications = self.app.recorder.select_notifications(start, self.batch_size)
                if not notifications:
                    return applied
                events = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
                self.view.process(events)
                self.generation += 1
                self._applied.inc(len(events))
                applied += len(events)
                if len(notifications) < self.batch_size:
                    return applied

    def rebuild(self) -> int:
        """Forget the read model and apply the whole log again."""
        with self._lock:
            self.view.reset()
            self.generation += 1
        return self.catch_up()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"follower-{type(self.view).__name__}",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.catch_up()
            except Exception:  # a read model must never take the server down; retry next poll
                log.exception("catching up %s failed", type(self.view).__name__)
            self._stop.wait(self.poll_seconds)
