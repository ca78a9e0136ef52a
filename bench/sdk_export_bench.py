"""The SDK's export end to end (issue 5): ``client.assets.export(id, format=...).to_pandas()`` of
the 1M-row enterprise registry over loopback, Parquet and CSV, beside the server-side CSV rate.

    .venv/bin/python bench/sdk_export_bench.py [--rows 1000000] [--tier full|masked] [--runs 3]
                                               [--formats parquet,csv,ndjson]

Seeds (or reuses) bench/out/export-N/data as bench/export_bench.py does (an unlimited plan and an
``exports:read`` key for a bench organisation), serves it with ``databank serve`` (one process),
then for each format: one warm-up, ``--runs`` timed runs of the SDK call (the link request, the
download and the DataFrame included), median reported. The server-side CSV rate is a raw httpx
download of the same export counting newlines (``export_bench.export_once``), median of the runs.
Also reports this process's peak RSS (the DataFrame itself is most of it).

Target: SDK to pandas end to end ≤ 15 s for 1M rows. Numbers, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from access_bench import free_port, wait_until_up  # noqa: E402
from export_bench import OUT, VENV_BIN, export_once, seed  # noqa: E402

import databank  # noqa: E402


def sdk_once(base_url: str, key: str, asset_id: str, format: str) -> tuple[int, float]:
    """(rows of the DataFrame, seconds) of one ``export(...).to_pandas()``."""
    started = time.perf_counter()
    with databank.Client(key, base_url=base_url, timeout=120.0) as client:
        frame = client.assets.export(asset_id, format=format).to_pandas()
    return len(frame), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tier", choices=("masked", "full"), default="full")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--json", type=Path, default=OUT / "sdk_export_bench.json",
                        help="where to write the summary (default bench/out/sdk_export_bench.json)")
    args = parser.parse_args()
    data_dir = OUT / f"export-{args.rows}" / "data"
    asset_id, key, _ = seed(data_dir, args.rows, args.tier)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABANK_DATA_DIR": str(data_dir), "DATABANK_ENV": "production",
           "DATABANK_PUBLIC_URL": base_url, "DATABANK_ESCALATION_INTERVAL_SECONDS": "0"}
    log = (OUT / "sdk-export-server.log").open("wb")
    server = subprocess.Popen([str(VENV_BIN / "databank"), "serve", "--host", "127.0.0.1", "--port",
                               str(port), "--no-demo"], env=env, stdout=log, stderr=subprocess.STDOUT)
    summary: dict = {"rows": args.rows, "tier": args.tier, "runs": args.runs, "formats": {}}
    try:
        wait_until_up(f"{base_url}/healthz", server)
        raw = []
        export_once(base_url, key, asset_id)  # warm: caches, connections
        for _ in range(args.runs):
            rows, seconds, _size = export_once(base_url, key, asset_id)
            raw.append(rows / seconds)
        server_rate = statistics.median(raw)
        summary["server_csv_rows_per_second"] = round(server_rate)
        print(f"server side CSV (raw httpx, median of {args.runs}): {server_rate:,.0f} rows/s",
              flush=True)
        for format in [f.strip() for f in args.formats.split(",") if f.strip()]:
            sdk_once(base_url, key, asset_id, format)  # warm
            times = []
            for run in range(args.runs):
                rows, seconds = sdk_once(base_url, key, asset_id, format)
                assert rows == args.rows, (format, rows)
                times.append(seconds)
                print(f"  {format} run {run + 1}: {rows:,} rows into pandas in {seconds:.2f} s",
                      flush=True)
            median = statistics.median(times)
            summary["formats"][format] = {"seconds": [round(t, 2) for t in times],
                                          "median_seconds": round(median, 2),
                                          "rows_per_second": round(args.rows / median)}
            print(f"SDK export(format={format!r}).to_pandas(): median {median:.2f} s "
                  f"= {args.rows / median:,.0f} rows/s (server CSV {server_rate:,.0f} rows/s; "
                  f"target ≤ 15 s)", flush=True)
    finally:
        server.terminate()
        server.wait(20)
        log.close()
    summary["client_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
