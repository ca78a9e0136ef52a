"""Streaming export of the 1M-row enterprise registry as CSV, server side (issue 5).

    .venv/bin/python bench/export_bench.py [--rows 1000000] [--tier masked|full] [--runs 2]

1. Seeds the demo with ``databank demo --enterprise-rows N`` into bench/out/export-N/data (kept
   and reused: seeding 1M rows takes a while), then adds an unlimited plan of the chosen tier, a
   subscription and an API key (``exports:read``) for a bench organisation.
2. Serves it with ``databank serve`` (one process), asks ``requestExport(format: CSV)`` and
   downloads the link over loopback with httpx, counting the rows (newlines) as they arrive.
3. Reads the server process's /proc/<pid>/status before and after: VmRSS, and VmHWM (peak).
4. Baseline beside it, in this process: ``datastore.iter_rows`` + ``csv.writer`` to /dev/null.

Targets: ≥ 200k rows/s server side; peak RSS growth ≤ 100 MB. Numbers, not pass/fail.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from access_bench import free_port, wait_until_up  # noqa: E402

REQUEST_EXPORT = (ROOT / "graphql" / "operations" / "RequestExport.graphql").read_text(encoding="utf-8")


def seed(data_dir: Path, rows: int, tier: str) -> tuple[str, str, str]:
    """The demo (once) plus an unlimited plan of ``tier``; returns (asset id, key, table)."""
    env = {**os.environ, "DATABANK_DATA_DIR": str(data_dir)}
    if not (data_dir / "demo-api-key.txt").exists():
        print(f"seeding the demo with {rows:,} enterprise rows ...", flush=True)
        subprocess.run([str(VENV_BIN / "databank"), "demo", "--enterprise-rows", str(rows)],
                       env=env, check=True, capture_output=True)
    from domain.actors import Actor, Role
    from domain.identifiers import org_code_check_char, uscc_check_char
    from marketplace.bootstrap import build
    from marketplace.projections.catalogue_view import CatalogueQuery
    from marketplace.settings import Settings

    bank = build(Settings(data_dir=data_dir))
    try:
        bank.catalogue_follower.catch_up()
        bank.entitlements_follower.catch_up()
        entry = next(e for e in bank.catalogue_view.search(CatalogueQuery(text="企业登记", first=5)).entries)
        admin = Actor("bench", "bench", Role.ADMIN)
        template = bank.entitlements_view.licence_templates()[0]
        plan = bank.licensing.define_plan(
            asset_id=entry["id"], name=f"导出压测版{time.time_ns()}", licence_template_id=template["id"],
            price={}, quotas={}, overage="block", field_tier=tier, by=admin)
        n = time.time_ns() % 10**8
        body = f"{n:08d}"
        head = "91341502" + body + org_code_check_char(body)
        email = f"bench{n}@startup.example"
        account = bank.members.sign_up(email=email, name="压测", password="luan-bench-2026")
        organisation = bank.organisations.register_organisation(
            credit_code=head + uscc_check_char(head), name=f"导出压测科技{n}", kind="startup",
            by=account.actor())
        member = bank.members.get_member(str(account.id)).actor()
        bank.subscriptions.subscribe(str(organisation.id), str(plan.id),
                                   accepted_terms_version=template["current_version"], by=member)
        _, plaintext = bank.api_keys.create_api_key(str(organisation.id), name="bench",
                                                      scopes=["exports:read"], by=member)
        table = bank.catalogue.get_asset(entry["id"]).get_version(entry["current_version"])["table"]
        return entry["id"], plaintext, table
    finally:
        bank.close()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def export_once(base_url: str, key: str, asset_id: str) -> tuple[int, float, int]:
    """(rows, seconds, bytes) of one CSV download, the request for the link included."""
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=300.0) as http:
        payload = http.post("/graphql", json={"query": REQUEST_EXPORT, "variables": {
            "assetId": asset_id, "format": "CSV"}}, headers={"Authorization": f"Bearer {key}"}
        ).json()["data"]["requestExport"]
        assert payload["errors"] == [], payload
        newlines = size = 0
        with http.stream("GET", payload["export"]["path"]) as response:
            assert response.status_code == 200, response.read()
            for chunk in response.iter_raw():
                newlines += chunk.count(b"\n")
                size += len(chunk)
    return newlines - 1, time.perf_counter() - started, size


def baseline(data_dir: Path, table: str) -> tuple[int, float]:
    """Raw ``datastore.iter_rows`` + ``csv.writer`` to /dev/null: (rows, seconds)."""
    from marketplace.datastore import SQLiteDatastore

    store = SQLiteDatastore(data_dir / "datastore.sqlite3")
    try:
        names = [c.name for c in store.columns(table)]
        started = time.perf_counter()
        rows = 0
        with open(os.devnull, "w", encoding="utf-8", newline="") as sink:
            writer = csv.writer(sink, lineterminator="\n")
            writer.writerow(names)
            for row in store.iter_rows(table):
                writer.writerow(row.values())
                rows += 1
        return rows, time.perf_counter() - started
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tier", choices=("masked", "full"), default="masked")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=OUT / "export_bench.json",
                        help="where to write the summary (default bench/out/export_bench.json)")
    args = parser.parse_args()
    data_dir = OUT / f"export-{args.rows}" / "data"
    asset_id, key, table = seed(data_dir, args.rows, args.tier)
    base_rows, base_seconds = baseline(data_dir, table)
    print(f"baseline iter_rows + csv.writer → /dev/null: {base_rows:,} rows in {base_seconds:.2f} s "
          f"= {base_rows / base_seconds:,.0f} rows/s", flush=True)

    port = free_port()
    env = {**os.environ, "DATABANK_DATA_DIR": str(data_dir), "DATABANK_ENV": "production",
           "DATABANK_PUBLIC_URL": f"http://127.0.0.1:{port}", "DATABANK_ESCALATION_INTERVAL_SECONDS": "0"}
    log = (OUT / "export-server.log").open("wb")
    server = subprocess.Popen([str(VENV_BIN / "databank"), "serve", "--host", "127.0.0.1", "--port",
                               str(port), "--no-demo"], env=env, stdout=log, stderr=subprocess.STDOUT)
    results = []
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        export_once(f"http://127.0.0.1:{port}", key, asset_id)  # warm: caches, connections
        before = proc_status(server.pid)
        for run in range(args.runs):
            rows, seconds, size = export_once(f"http://127.0.0.1:{port}", key, asset_id)
            after = proc_status(server.pid)
            results.append({"rows": rows, "seconds": round(seconds, 3), "bytes": size,
                            "rows_per_second": round(rows / seconds)})
            print(f"run {run + 1}: {rows:,} rows ({size / 2**20:,.0f} MiB CSV, {args.tier} tier) in "
                  f"{seconds:.2f} s = {rows / seconds:,.0f} rows/s; server VmRSS "
                  f"{before['VmRSS'] / 1024:,.0f} → {after['VmRSS'] / 1024:,.0f} MiB, VmHWM "
                  f"{before['VmHWM'] / 1024:,.0f} → {after['VmHWM'] / 1024:,.0f} MiB", flush=True)
        after = proc_status(server.pid)
    finally:
        server.terminate()
        server.wait(20)
        log.close()
    summary = {
        "rows": args.rows, "tier": args.tier, "runs": results,
        "best_rows_per_second": max(r["rows_per_second"] for r in results),
        "baseline_rows_per_second": round(base_rows / base_seconds),
        "server_rss_kb_before": before["VmRSS"], "server_rss_kb_after": after["VmRSS"],
        "server_hwm_kb_before": before["VmHWM"], "server_hwm_kb_after": after["VmHWM"],
        "peak_rss_growth_mb": round((after["VmHWM"] - before["VmHWM"]) / 1024, 1),
    }
    args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
