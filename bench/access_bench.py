"""The data access path over HTTP against Datasette, side by side, with the same load generator.

    .venv/bin/python bench/access_bench.py [--runs 3] [--seconds 10] [--connections 16]

1. Seeds the Lu'an demo (100,000-row enterprise registry) into a temporary data directory, then
   adds an unlimited plan (masked tier), a subscription and an API key for the demo startup.
2. Copies the same rows into a plain SQLite file and serves it with Datasette (installed into
   bench/out/datasette-venv on first use; not a project dependency).
3. wrk (Debian's package) with 16 connections, alternating: Datasette's
   `/db/enterprise.json?_size=100&_shape=array`, our `POST /graphql` `rows(first: 100)` with the
   API key (authentication, entitlement, quota reservation, masking and metering all on), and the
   same with metering and quota off (DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS=1).

Targets (issue 3): ours ≥ 5× Datasette's throughput; metering off at most 15% faster than on.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url} exited early with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {seconds} s")


def seed(data_dir: Path) -> tuple[str, str]:
    """The demo plus an unlimited masked plan, subscription and key; returns (asset id, key)."""
    env = {**os.environ, "DATABANK_DATA_DIR": str(data_dir)}
    subprocess.run([str(VENV_BIN / "databank"), "demo"], env=env, check=True, capture_output=True)
    sys.path.insert(0, str(ROOT))
    from domain.actors import Actor, Role
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
        plan = bank.marketplace.define_plan(
            asset_id=entry["id"], name="压测版", licence_template_id=template["id"], price={},
            quotas={}, overage="block", field_tier="masked", by=admin)
        account = bank.marketplace.sign_up(email="bench@startup.example", name="压测", password="luan-bench-2026")
        member = account.actor()
        organisation = bank.marketplace.register_organisation(
            credit_code=_credit_code(), name="压测科技",
            kind="startup", by=member)
        member = bank.marketplace.get_member(str(account.id)).actor()
        bank.marketplace.subscribe(str(organisation.id), str(plan.id),
                                   accepted_terms_version=template["current_version"], by=member)
        _, plaintext = bank.marketplace.create_api_key(str(organisation.id), name="bench",
                                                      scopes=["rows:read"], by=member)
        table = bank.catalogue.get_asset(entry["id"]).get_version(entry["current_version"])["table"]
        export_for_datasette(bank.datastore, table, OUT / "datasette" / "db.db")
        return entry["id"], plaintext
    finally:
        bank.close()


def _credit_code() -> str:
    from domain.identifiers import org_code_check_char, uscc_check_char

    body = "BENCH001"
    head = "91341502" + body + org_code_check_char(body)
    return head + uscc_check_char(head)


def export_for_datasette(datastore, table: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    columns = [c.name for c in datastore.columns(table)]
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE enterprise ({', '.join(json.dumps(c) for c in columns)})")
    batch = []
    for row in datastore.iter_rows(table):
        batch.append([row[c] for c in columns])
        if len(batch) == 5000:
            db.executemany(f"INSERT INTO enterprise VALUES ({', '.join('?' * len(columns))})", batch)
            batch = []
    if batch:
        db.executemany(f"INSERT INTO enterprise VALUES ({', '.join('?' * len(columns))})", batch)
    db.commit()
    db.close()


def datasette_bin() -> Path:
    venv = OUT / "datasette-venv"
    if not (venv / "bin" / "datasette").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "datasette==0.65.5"], check=True)
    return venv / "bin" / "datasette"


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command + [url], check=True, capture_output=True, text=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} failed responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        asset_id, key = seed(data_dir)
        body = json.dumps({"query": "query Rows($a: ID!) { rows(assetId: $a, first: 100) { rows pageInfo { endCursor } } }",
                           "variables": {"a": asset_id}})
        script = Path(tmp) / "rows.lua"
        script.write_text('wrk.method = "POST"\nwrk.body = ' + json.dumps(body) + "\n"
                          'wrk.headers["Content-Type"] = "application/json"\n'
                          f'wrk.headers["Authorization"] = "Bearer {key}"\n', encoding="utf-8")
        servers = {}
        try:
            port = free_port()
            servers["datasette"] = (subprocess.Popen(
                [str(datasette_bin()), "serve", str(OUT / "datasette" / "db.db"), "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), f"http://127.0.0.1:{port}")
            for name, extra in (("metered", {}), ("unmetered", {"DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS": "1"})):
                port = free_port()
                env = {**os.environ, "DATABANK_DATA_DIR": str(data_dir), "DATABANK_ENV": "production", **extra}
                servers[name] = (subprocess.Popen(
                    [str(VENV_BIN / "databank"), "serve", "--no-demo", "--port", str(port)], env=env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), f"http://127.0.0.1:{port}")
            for proc, base in servers.values():
                wait_until_up(base + ("/healthz" if "datasette" not in str(proc.args) else "/"), proc)
            check = httpx.post(servers["metered"][1] + "/graphql", content=body,
                               headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"}).json()
            assert len(check["data"]["rows"]["rows"]) == 100, check
            assert "*" in check["data"]["rows"]["rows"][0]["联系电话"], "masking must be on"
            results: dict[str, list[float]] = {name: [] for name in servers}
            for run in range(args.runs):
                results["datasette"].append(wrk(servers["datasette"][1] + "/db/enterprise.json?_size=100&_shape=array",
                                                args.seconds, args.connections))
                results["metered"].append(wrk(servers["metered"][1] + "/graphql", args.seconds, args.connections, script))
                results["unmetered"].append(wrk(servers["unmetered"][1] + "/graphql", args.seconds, args.connections, script))
                print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:,.0f} req/s" for k, v in results.items()))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)
        med = {k: statistics.median(v) for k, v in results.items()}
        print(f"\nmedian of {args.runs} runs, wrk -t2 -c{args.connections} -d{args.seconds}s, 100-row pages:")
        print(f"  Datasette /db/enterprise.json?_size=100&_shape=array  {med['datasette']:8,.0f} req/s")
        print(f"  data bank rows(first: 100), API key, metered          {med['metered']:8,.0f} req/s  "
              f"= {med['metered'] / med['datasette']:.1f}x Datasette (target >= 5x)")
        print(f"  the same with metering and quota off                  {med['unmetered']:8,.0f} req/s  "
              f"= {100 * (med['unmetered'] / med['metered'] - 1):+.0f}% (target <= +15%)")
        # The machine's speed drifts between runs: the ratio within each run (the two servers
        # measured back to back) is the steadier figure.
        paired = statistics.median(u / m - 1 for m, u in zip(results["metered"], results["unmetered"]))
        print(f"  median of the per-run ratios (unmetered / metered)              {100 * paired:+.0f}%")


if __name__ == "__main__":
    main()
