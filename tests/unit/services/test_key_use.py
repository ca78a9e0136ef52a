"""KeyUseRecorder: one touch per key, day and process, handed over off the request's thread."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

from marketplace.services.key_use import KeyUseRecorder

LATE_EVENING_UTC = datetime(2026, 3, 2, 15, 59, tzinfo=timezone.utc)  # 23:59 in Lu'an


class _Clock:
    def __init__(self) -> None:
        self.now = LATE_EVENING_UTC

    def __call__(self) -> datetime:
        return self.now


def test_many_uses_from_many_threads_touch_once_a_china_day() -> None:
    touched: list[tuple[str, date]] = []
    clock = _Clock()
    recorder = KeyUseRecorder(lambda key, day: touched.append((key, day)), clock=clock)
    threads = [threading.Thread(target=lambda: [recorder.note(k) for k in ("a", "b") * 200])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert recorder.flush()
    assert sorted(touched) == [("a", date(2026, 3, 2)), ("b", date(2026, 3, 2))]
    clock.now += timedelta(minutes=1)  # midnight in China, still the 2nd in UTC
    recorder.note("a")
    recorder.close()
    assert touched[-1] == ("a", date(2026, 3, 3)) and len(touched) == 3


def test_a_failed_touch_is_retried_on_the_next_use() -> None:
    attempts: list[str] = []

    def touch(key: str, day: date) -> None:
        attempts.append(key)
        if len(attempts) == 1:
            raise RuntimeError("the event store is away")

    recorder = KeyUseRecorder(touch, clock=_Clock())
    recorder.note("a")
    assert recorder.flush()
    recorder.note("a")
    assert recorder.flush()
    recorder.note("a")
    recorder.close()
    assert attempts == ["a", "a"]


def test_nothing_is_queued_after_close_and_the_queue_is_bounded() -> None:
    gate = threading.Event()
    touched: list[str] = []
    recorder = KeyUseRecorder(lambda key, day: (gate.wait(5), touched.append(key)), clock=_Clock(),
                              max_pending=2)
    for key in ("a", "b", "c", "d"):
        recorder.note(key)
    gate.set()
    recorder.close()
    recorder.note("e")
    assert touched == ["a", "b"]
