"""用量计量: feeds the quota ledger's usage records into ``UsageMeter`` aggregates.

The access path reserves in the ledger (exact, durable before serving); this application turns
the ledger's outbox into events, group-committed: one feed claims up to ``limit`` records as a
fixed batch, records ONE ``Recorded`` event per (subscription, period) meter with the batch id
``"<first record id>-<last record id>"``, saves every touched meter in ONE ``save()``, then marks
the batch fed (and adds it to the daily read model) in one ledger transaction. Then the
``on_fed`` listeners see the batch (billing sends the usage of paid subscriptions to the provider).

A crash anywhere re-runs the same claimed batch with the same batch ids: the meter's dedupe
window drops what was already saved — at-least-once feeding + dedupe = exactly-once usage.
One feeder runs at a time across all processes (the ledger's feed lock).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from eventsourcing.application import AggregateNotFoundError, Application

from domain.metering import UsageMeter
from marketplace.metering.ledger import FeedBatch, QuotaLedger, group_records
from marketplace.observability.metrics import USAGE_FED_RECORDS, USAGE_LAST_FED

log = logging.getLogger(__name__)

ANONYMOUS_PREFIX = "anon:"


class Metering(Application):
    """Usage meters per subscription per period, fed from the quota ledger.

    :param env: the eventsourcing persistence environment (see services.persistence)
    :param ledger: the quota ledger the access path reserves in
    :param grace_seconds: an unsettled record is fed only this long after it was written (so a
        settle that gives rows back normally comes first); settled and ``final`` records at once
    :param meter_anonymous: also keep meters for ``anon:<ip>`` subjects (off: per-IP streams
        would grow without bound; anonymous usage still reaches the ledger's daily read model)
    """

    name = "Metering"
    snapshotting_intervals = {UsageMeter: 100}

    def __init__(self, env: dict[str, str] | None = None, *, ledger: QuotaLedger,
                 grace_seconds: float = 5.0, meter_anonymous: bool = False) -> None:
        super().__init__(env)
        self.ledger = ledger
        self.grace_seconds = grace_seconds
        self.meter_anonymous = meter_anonymous
        #: called with each batch once it is fed (outside the feed lock); billing sends usage here
        self.on_fed: list[Callable[[FeedBatch], Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- feeding ---------------------------------------------------------------------------

    def feed(self, limit: int = 5000, *, grace_seconds: float | None = None) -> int:
        """Feed one batch of at most ``limit`` records; returns how many records were fed
        (0: nothing to feed, or another feeder is at work)."""
        grace = self.grace_seconds if grace_seconds is None else grace_seconds
        with self.ledger.feed_lock() as held:
            if not held:
                return 0
            batch = self.ledger.pending_feed_batch()  # one a crashed feeder left behind
            if batch is None:
                batch = self.ledger.claim_feed_batch(limit, grace_seconds=grace)
            if batch is None:
                USAGE_LAST_FED.set_to_current_time()  # caught up: the outbox is drained
                return 0
            self.record_batch(batch)
            self.ledger.mark_fed(batch.number)
        USAGE_FED_RECORDS.observe(len(batch.records))
        USAGE_LAST_FED.set_to_current_time()
        for listener in self.on_fed:
            try:
                listener(batch)
            except Exception:  # the batch is fed; a listener's reconciler picks it up later
                log.exception("a listener of fed usage batch %s failed", batch.number)
        return len(batch.records)

    def feed_all(self, limit: int = 5000, *, grace_seconds: float | None = None) -> int:
        """Feed until nothing is left; returns the records fed."""
        total = 0
        while (fed := self.feed(limit, grace_seconds=grace_seconds)) > 0:
            total += fed
        return total

    def record_batch(self, batch: FeedBatch) -> int:
        """Record one claimed batch into the meters in one save; returns the meters changed.
        Idempotent (the batch ids are deterministic), so a crash before ``mark_fed`` is safe."""
        touched: list[UsageMeter] = []
        for (subject, period), records in group_records(batch.records):
            if subject.startswith(ANONYMOUS_PREFIX) and not self.meter_anonymous:
                continue
            meter = self._meter(subject, period, batch.quotas.get((subject, period), (None, None)))
            recorded = meter.record(f"{records[0].id}-{records[-1].id}",
                                    rows=sum(r.rows for r in records),
                                    calls=sum(r.calls for r in records),
                                    bytes_served=sum(r.bytes for r in records))
            if recorded:  # a new meter always records; a seen batch id changes nothing
                touched.append(meter)
        if touched:
            self.save(*touched)
        return len(touched)

    def _meter(self, subject: str, period: str, quotas: tuple[int | None, int | None]) -> UsageMeter:
        try:
            return self.repository.get(UsageMeter.create_id(subject, period))
        except AggregateNotFoundError:
            rows_quota, calls_quota = (q if q is not None and q > 0 else None for q in quotas)
            return UsageMeter.open(subscription_id=subject, period=period, rows_quota=rows_quota,
                                   calls_quota=calls_quota)

    # ---- reading ---------------------------------------------------------------------------

    def meter_usage(self, subscription_id: str, period: str) -> dict[str, Any] | None:
        """The fed figures of one meter (``UsageMeter.usage()``), or None before any feed."""
        try:
            meter: UsageMeter = self.repository.get(UsageMeter.create_id(subscription_id, period))
        except AggregateNotFoundError:
            return None
        return meter.usage()

    # ---- background feeding ----------------------------------------------------------------

    def start(self, *, poll_seconds: float = 0.5, limit: int = 5000) -> None:
        """Feed in a background thread: batch after batch, then a pause when idle."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(poll_seconds, limit),
                                            name="metering-feed", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self, poll_seconds: float, limit: int) -> None:
        while not self._stop.is_set():
            try:
                if self.feed(limit) >= limit:
                    continue  # more is waiting
            except Exception:  # metering must never take the server down; retry next poll
                log.exception("feeding usage into the meters failed")
            self._stop.wait(poll_seconds)

    def close(self) -> None:
        self.stop()
        super().close()
