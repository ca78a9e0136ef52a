"""SQLite specifics: the file and in-memory stores, threads, and memory bounded while streaming."""

from __future__ import annotations

import csv
import io
import threading
import tracemalloc

from marketplace.datastore import ImportSpec, SQLiteDatastore


def test_the_store_creates_missing_directories_and_keeps_tables_across_instances(tmp_path) -> None:
    path = tmp_path / "a" / "b" / "datastore.sqlite3"
    store = SQLiteDatastore(path)
    store.import_version("t", io.BytesIO(b"a\n1\n"), ImportSpec("csv"))
    store.close()
    again = SQLiteDatastore(path)
    assert again.query("t").rows == [{"a": 1}]
    again.close()


def test_an_in_memory_store_is_shared_by_threads() -> None:
    store = SQLiteDatastore(":memory:")
    store.import_version("t", io.BytesIO(b"a\n1\n2\n"), ImportSpec("csv"))
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(store.count("t"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == [2, 2, 2, 2]
    store.close()


def test_reads_proceed_while_an_import_holds_the_write_transaction(tmp_path) -> None:
    store = SQLiteDatastore(tmp_path / "d.sqlite3")
    store.import_version("ready", io.BytesIO(b"a\n1\n"), ImportSpec("csv"))
    seen: list[int] = []

    class SlowSource(io.RawIOBase):
        """Serves a CSV and, halfway, reads the other table from another thread."""

        def __init__(self) -> None:
            self.parts = [b"a\n" + b"1\n" * 40000, b"2\n" * 40000]

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            if len(self.parts) == 1:
                reader = threading.Thread(target=lambda: seen.append(store.count("ready")))
                reader.start()
                reader.join(timeout=10)
            return self.parts.pop(0) if self.parts else b""

    store.import_version("big", SlowSource(), ImportSpec("csv"))
    assert seen == [1] and store.count("big") == 80000
    store.close()


def test_a_200k_row_import_streams_in_bounded_memory(tmp_path) -> None:
    source = tmp_path / "big.csv"
    with open(source, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["编号", "名称", "金额", "日期", "联系电话"])
        for i in range(200_000):
            w.writerow([i, f"六安市某某有限公司{i}", f"{i}.25", f"2020-01-{i % 28 + 1:02d}", f"138{i:08d}"])
    assert source.stat().st_size > 10 << 20
    store = SQLiteDatastore(tmp_path / "d.sqlite3")
    tracemalloc.start()
    try:
        with open(source, "rb") as f:
            result = store.import_version("big", f, ImportSpec("csv", key_columns=["编号"]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    store.close()
    assert result.row_count == 200_000
    assert peak < 24 << 20, f"peak Python allocations {peak / 2**20:.1f} MB"
