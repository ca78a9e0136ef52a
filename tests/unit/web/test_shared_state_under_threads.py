"""What requests share when they run on many worker threads: the SQLite datastore's connections
and the access path's caches. (The quota ledger's exactness from 32 threads, with and without
group commit, is tests/integration/metering/test_quota_exactness.py.)"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import Any

from marketplace.datastore import ImportSpec, SQLiteDatastore
from marketplace.services.access import _GenerationCache


def _open_handles(path: Path) -> int:
    """File descriptors of this process open on ``path`` (the database file itself)."""
    target = str(path.resolve())
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
        except OSError:
            pass  # closed while listing
    return count


def _run_threads(count: int, work: Any) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            work()
        except BaseException as exc:  # asserted by the caller
            errors.append(exc)

    threads = [threading.Thread(target=guarded) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_threads_that_come_and_go_do_not_pile_up_datastore_connections(tmp_path: Path) -> None:
    # A server's worker threads are retired when idle and new ones started: connections must
    # follow the work, not the threads, or every retired thread leaves one open for good.
    path = tmp_path / "d.sqlite3"
    store = SQLiteDatastore(path)
    store.import_version("t", io.BytesIO(b"a\n" + b"".join(b"%d\n" % i for i in range(500))),
                         ImportSpec("csv"))
    concurrent = 6
    answers: list[int] = []
    for _ in range(25):  # 25 generations of 6 fresh threads: 150 threads in all
        assert _run_threads(concurrent, lambda: answers.append(
            len(store.query("t", limit=100).rows) + store.count("t"))) == []
    assert answers == [600] * 150
    assert _open_handles(path) <= concurrent + 1
    store.close()
    assert _open_handles(path) == 0


def test_readers_on_many_threads_see_whole_tables_while_another_thread_imports(
        tmp_path: Path) -> None:
    store = SQLiteDatastore(tmp_path / "d.sqlite3")
    store.import_version("ready", io.BytesIO(b"a\n1\n2\n3\n"), ImportSpec("csv"))
    stop = threading.Event()
    seen: set[int] = set()

    def read() -> None:
        while not stop.is_set():
            seen.add(store.count("ready"))

    readers = [threading.Thread(target=read) for _ in range(6)]
    for r in readers:
        r.start()
    try:
        for n in range(5):
            store.import_version(f"v{n}", io.BytesIO(b"a\n" + b"7\n" * 20000), ImportSpec("csv"))
    finally:
        stop.set()
        for r in readers:
            r.join()
    assert seen == {3}
    assert [store.count(f"v{n}") for n in range(5)] == [20000] * 5
    store.close()


class _Follower:
    generation = 0


def test_a_value_loaded_before_the_follower_moved_is_never_served_after_it() -> None:
    # Request B loads a key's record; meanwhile the follower applies a revocation and request A
    # (another thread) starts the new generation with the fresh record. B's stale record must
    # not land in the new generation. The interleaving is made exact by running A inside B's load.
    follower = _Follower()
    cache: _GenerationCache[str, str] = _GenerationCache(follower)  # type: ignore[arg-type]

    def stale_load() -> str:
        follower.generation += 1  # the revocation is applied while B reads
        assert cache.get("key", lambda: "revoked") == "revoked"  # request A
        return "active"  # what B read before it

    assert cache.get("key", stale_load) == "active"  # B answers with what it read, once
    assert cache.get("key", lambda: "reloaded") == "revoked"


def test_threads_hammering_the_cache_while_the_follower_moves_end_on_the_newest_value() -> None:
    follower = _Follower()
    cache: _GenerationCache[int, int] = _GenerationCache(follower)  # type: ignore[arg-type]
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for key in range(8):
                # A load reads the read model as of the follower's generation at that moment.
                cache.get(key, lambda: follower.generation)

    readers = [threading.Thread(target=read) for _ in range(6)]
    for r in readers:
        r.start()
    for _ in range(2000):
        follower.generation += 1
    final = follower.generation
    stop.set()
    for r in readers:
        r.join()
    assert [cache.get(key, lambda: final) for key in range(8)] == [final] * 8
