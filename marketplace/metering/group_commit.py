"""Group commit: the reservations (and settlements) of one process queue for one committer
thread, which applies everything queued — in arrival order, each decision seeing the ones before
it — in one transaction and then wakes every caller. There is no added wait: while one
transaction commits the next requests pile up, so the batch grows with the load and a lone request
is committed at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.licensing import Overage
from marketplace.metering.ledger import Grant, check_reservation, check_settlement
from marketplace.observability.metrics import LEDGER_BATCH_SIZE, LEDGER_WAIT, QUOTA_REFUSALS


class _Slot:
    __slots__ = ("op", "result", "error", "done")

    def __init__(self, op: Any) -> None:
        self.op = op
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Lock()
        self.done.acquire()


class GroupCommitter:
    """Applies queued operations in batches on one thread, in arrival order.

    :param apply: runs one batch in one transaction; returns one result per operation, or raises
        (then every caller of the batch gets the exception: nothing of it was committed, or the
        outcome is unknown — either way the caller serves nothing)
    :param max_batch: operations per transaction at most
    :param threads: committer threads (each its own transaction; while one waits on the
        network or the disk, the next gathers its batch). Exactness does not depend on it:
        the database's row locks order concurrent batches.
    """

    def __init__(self, apply: Callable[[list[Any]], list[Any]], *, max_batch: int = 1000,
                 threads: int = 1, name: str = "ledger-committer") -> None:
        self._apply = apply
        self._max_batch = max_batch
        self._name = name
        self._n_threads = threads
        self._queue: list[_Slot] = []
        self._cv = threading.Condition(threading.Lock())
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.batches = 0
        self.operations = 0

    def submit(self, op: Any) -> Any:
        started = time.perf_counter()
        slot = _Slot(op)
        with self._cv:
            if self._closed:
                raise RuntimeError("the quota ledger is closed")
            if not self._threads:  # started lazily: safe to build before a fork
                self._threads = [threading.Thread(target=self._run, name=f"{self._name}-{i}",
                                                  daemon=True) for i in range(self._n_threads)]
                for thread in self._threads:
                    thread.start()
            self._queue.append(slot)
            self._cv.notify()
        slot.done.acquire()
        LEDGER_WAIT.observe(time.perf_counter() - started)
        if slot.error is not None:
            raise slot.error
        return slot.result

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            LEDGER_BATCH_SIZE.observe(len(batch))
            try:
                results = self._apply([slot.op for slot in batch])
                for slot, result in zip(batch, results, strict=True):
                    slot.result = result
            except BaseException as exc:  # handed to every caller of the batch
                for slot in batch:
                    slot.error = exc
            with self._cv:
                self.batches += 1
                self.operations += len(batch)
            for slot in batch:
                slot.done.release()


class BatchingLedger:
    """What every backend shares: validation, the committer, and per-call mode for benchmarks.

    A backend implements ``_apply(ops) -> results`` (one transaction) and may be called directly
    (``group_commit=False``: one transaction per request on the caller's thread).
    """

    def __init__(self, *, group_commit: bool = True, max_batch: int = 1000,
                 committers: int = 1) -> None:
        self.group_commit = group_commit
        self._committer = (GroupCommitter(self._apply, max_batch=max_batch, threads=committers)
                           if group_commit else None)

    def _apply(self, ops: list[Any]) -> list[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _submit(self, op: Any) -> Any:
        if self._committer is not None:
            return self._committer.submit(op)
        return self._apply([op])[0]

    def reserve(self, subject: str, period: str, *, rows_wanted: int, rows_quota: int | None,
                calls_quota: int | None, rate_limit_per_minute: int | None,
                overage: Overage | str = Overage.BLOCK, now: datetime,
                asset_id: str | None = None, department_id: str | None = None,
                organisation_id: str | None = None, bytes_estimate: int = 0,
                final: bool = False) -> Grant:
        """Reserve up to ``rows_wanted`` rows and one call for ``subject`` in ``period``.

        Exact across threads and processes; durable (the usage record is committed) when it
        returns. Serve at most ``granted_rows`` rows, and only when ``allowed``.

        :param rows_quota: rows per period (None: unlimited); ``calls_quota`` likewise
        :param rate_limit_per_minute: calls per clock minute (None: unlimited)
        :param overage: ``block`` (refuse and truncate at the quota) or ``bill`` (never refuse
            for the quota; usage beyond it is billed)
        :param now: the request's time (its minute is the rate window)
        :param asset_id: stored on the usage record for reports, with ``department_id`` and
            ``organisation_id``
        :param bytes_estimate: bytes this response will be (kept unless ``settle`` corrects it)
        :param final: the caller will not settle (it already knows the rows it serves): the
            feed may take the record at once instead of after the settle grace
        """
        req = check_reservation(subject, period, rows_wanted=rows_wanted, rows_quota=rows_quota,
                                calls_quota=calls_quota, rate_limit_per_minute=rate_limit_per_minute,
                                overage=overage, now=now, asset_id=asset_id,
                                department_id=department_id, organisation_id=organisation_id,
                                bytes_estimate=bytes_estimate, final=final)
        grant: Grant = self._submit(req)
        if grant.refusal is not None:
            QUOTA_REFUSALS.labels(grant.refusal.value).inc()
        return grant

    def settle(self, grant: Grant, *, rows_served: int, bytes_served: int = 0) -> bool:
        """Give back the rows of ``grant`` not served (and store the bytes served).

        Writes only when fewer rows were served than granted; True when something was given
        back. A record the feed has already taken (after the grace) keeps its reserved rows:
        metered stays ≥ served, and the counters stay equal to the meters.
        """
        op = check_settlement(grant, rows_served, bytes_served)
        if op is None:
            return False
        return bool(self._submit(op))

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
