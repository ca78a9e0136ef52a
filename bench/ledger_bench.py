"""Usage-ledger write throughput: reservations (each a durable usage record) per second.

16 threads reserve as fast as they can for 3 s; one transaction per record (``group_commit=False``,
the baseline) against the group committer. Subjects: ``spread`` (each thread its own
subscription) and ``hot`` (all threads on one subscription, the exactness worst case).
Medians of 3 runs. Usage:

    DATABANK_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python bench/ledger_bench.py [--threads 16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.metering import period_of  # noqa: E402
from marketplace.metering import SQLiteQuotaLedger  # noqa: E402

THREADS = 16
SECONDS = 3.0
RUNS = 3


def run(ledger, hot: bool) -> float:
    stop = threading.Event()
    counts = [0] * THREADS
    now = datetime.now(timezone.utc)
    period = period_of(now)
    run_id = uuid.uuid4().hex[:8]

    def worker(i: int) -> None:
        subject = f"{run_id}-hot" if hot else f"{run_id}-{i}"
        n = 0
        while not stop.is_set():
            ledger.reserve(subject, period, rows_wanted=100, rows_quota=None, calls_quota=None,
                           rate_limit_per_minute=None, now=now, asset_id="bench", final=True)
            n += 1
        counts[i] = n

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def median_of(make, hot: bool) -> float:
    rates = []
    for _ in range(RUNS):
        ledger = make()
        try:
            rates.append(run(ledger, hot))
        finally:
            ledger.close()
    return statistics.median(rates)


#: what the run measured, for ``--json``: {"PostgreSQL spread": {"single": ..., "group": ...}, ...}
RESULTS: dict[str, dict[str, float]] = {}


def report(name: str, make_single, make_grouped) -> None:
    for hot in (False, True):
        single = median_of(make_single, hot)
        grouped = median_of(make_grouped, hot)
        label = "hot (1 subject)" if hot else f"spread ({THREADS} subjects)"
        print(f"{name:10s} {label:22s} one txn/record {single:9,.0f}/s   group commit "
              f"{grouped:9,.0f}/s   ratio {grouped / single:5.1f}x", flush=True)
        RESULTS[f"{name} {'hot' if hot else 'spread'}"] = {
            "threads": THREADS, "one_transaction_per_record": round(single), "group_commit": round(grouped)}


def _process_worker(url: str, schema: str, hot: bool, seconds: float, threads: int, out) -> None:
    from marketplace.metering import PostgresQuotaLedger

    global SECONDS, THREADS
    SECONDS, THREADS = seconds, threads
    ledger = PostgresQuotaLedger(url, schema, create_tables=False)
    try:
        out.put(run(ledger, hot))
    finally:
        ledger.close()


def processes_rate(url: str, schema: str, hot: bool, n: int = 4) -> float:
    """n worker processes × 16 threads (the deployment's shape), each with its committer."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(url, schema, hot, SECONDS, THREADS, out)) for _ in range(n)]
    for p in procs:
        p.start()
    rates = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join()
    return sum(rates)


def main() -> None:
    global THREADS, SECONDS, RUNS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=THREADS,
                        help="concurrent callers per process (the group committer's batches grow with them)")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="length of one run")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per figure (the median is reported)")
    parser.add_argument("--no-processes", action="store_true",
                        help="skip the 4-process PostgreSQL figures (they take the longest)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    THREADS, SECONDS, RUNS = args.threads, args.seconds, args.runs
    print(f"{THREADS} threads, {SECONDS:g} s per run, median of {RUNS} runs")
    url = os.environ.get("DATABANK_BENCH_POSTGRES_URL") or os.environ.get("DATABANK_TEST_POSTGRES_URL")
    if url:
        import psycopg

        from marketplace.metering import PostgresQuotaLedger

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            PostgresQuotaLedger(url, schema).close()  # tables once
            report("PostgreSQL",
                   lambda: PostgresQuotaLedger(url, schema, group_commit=False, pool_size=THREADS,
                                               create_tables=False),
                   lambda: PostgresQuotaLedger(url, schema, create_tables=False))
            for hot in (False, True) if not args.no_processes else ():
                rate = statistics.median(processes_rate(url, schema, hot) for _ in range(RUNS))
                label = "hot (1 subject)" if hot else f"spread ({THREADS}/process)"
                print(f"PostgreSQL {label:22s} 4 processes x {THREADS} threads, group commit "
                      f"{rate:9,.0f}/s", flush=True)
                RESULTS[f"PostgreSQL 4 processes {'hot' if hot else 'spread'}"] = {
                    "threads": THREADS, "group_commit": round(rate)}
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    else:
        print("PostgreSQL skipped: set DATABANK_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.sqlite3"
        SQLiteQuotaLedger(path).close()
        report("SQLite", lambda: SQLiteQuotaLedger(path, group_commit=False),
               lambda: SQLiteQuotaLedger(path))
    if args.json:
        args.json.write_text(json.dumps({"seconds": SECONDS, "runs": RUNS, "postgres": bool(url),
                                         "figures": RESULTS}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
