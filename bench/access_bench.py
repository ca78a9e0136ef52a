"""The data access path over HTTP against Datasette, side by side, with the same load generator.

    .venv/bin/python bench/access_bench.py [--runs 3] [--seconds 10] [--connections 16] [--threads 2]
        [--workloads first filtered deep scan mixed] [--baseline /path/to/earlier/checkout] [--no-unmetered]
        [--postgres postgresql://postgres@127.0.0.1:5432/test --workers 2]

1. Seeds the Lu'an demo (100,000-row enterprise registry) into a temporary data directory, then
   adds an unlimited plan (masked tier), a subscription and an API key for the demo startup.
2. Copies the same rows into a plain SQLite file and serves it with Datasette (installed into
   bench/out/datasette-venv on first use; not a project dependency).
3. wrk (Debian's package) with 16 connections, alternating: Datasette's
   `/db/enterprise.json?_size=100&_shape=array`, our `POST /graphql` `rows(first: 100)` with the
   API key (authentication, entitlement, quota reservation, masking and metering all on), and the
   same with metering and quota off (DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS=1).

Workloads: ``first`` (the first page), ``filtered`` (所属区县 = 霍山县), ``deep`` (the page after
row 80,000, behind a cursor each server issued), ``scan`` (成立日期 ≥ 2025-12-30: a filter no index
serves, the whole table read for a handful of rows) and ``mixed`` (issue 11: first pages on 14
connections while 2 run the scan, beside first pages alone on 14: p50/p99 of the first pages). ``--baseline`` runs an earlier checkout's server
beside ours (its own virtualenv, seeded by its own code), so a change is measured against the
code before it on the same machine in the same minutes.

``--postgres URL`` serves the bank from PostgreSQL instead of SQLite files: a fresh schema
(``bench_<pid>``, dropped at the end) seeded by the same code, then ``databank serve --workers N``
(``--workers``, default 1; N > 1 is uvicorn's worker processes on ``marketplace.asgi``, as in
production). Datasette still serves its SQLite copy of the same rows.

Targets (issue 3): ours ≥ 5× Datasette's throughput; metering off at most 15% faster than on.
Issue 9: the column rule and opaque cursors cost at most 5% against the baseline.
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
from urllib.parse import urlencode

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


def seed(data_dir: Path, *, root: Path = ROOT, for_datasette: bool = True,
         full_columns: tuple[str, ...] = (), database_url: str | None = None) -> tuple[str, str]:
    """The demo plus an unlimited masked plan, subscription and key; returns (asset id, key).

    :param root: the checkout whose code seeds (this interpreter's virtualenv must hold it)
    :param for_datasette: also copy the rows into Datasette's SQLite file
    :param full_columns: columns the plan leaves unmasked (so that two versions of the code
        mask the same columns, e.g. 住所, which detection masks since issue 9)
    :param database_url: seed a PostgreSQL deployment (``DATABANK_DATABASE_URL``) instead
    """
    env = {**os.environ, "DATABANK_DATA_DIR": str(data_dir)}
    if database_url:
        env["DATABANK_DATABASE_URL"] = database_url
    subprocess.run([str(VENV_BIN / "databank"), "demo"], env=env, check=True, capture_output=True)
    sys.path.insert(0, str(root))
    from domain.actors import Actor, Role
    from marketplace.bootstrap import build
    from marketplace.projections.catalogue_view import CatalogueQuery
    from marketplace.settings import Settings

    bank = build(Settings(data_dir=data_dir, database_url=database_url))
    try:
        bank.catalogue_follower.catch_up()
        bank.entitlements_follower.catch_up()
        entry = next(e for e in bank.catalogue_view.search(CatalogueQuery(text="企业登记", first=5)).entries)
        admin = Actor("bench", "bench", Role.ADMIN)
        template = bank.entitlements_view.licence_templates()[0]
        plan = bank.licensing.define_plan(
            asset_id=entry["id"], name="压测版", licence_template_id=template["id"], price={},
            quotas={}, overage="block", field_tier="masked",
            item_overrides={column: "full" for column in full_columns}, by=admin)
        account = bank.members.sign_up(email="bench@startup.example", name="压测", password="luan-bench-2026")
        member = account.actor()
        organisation = bank.organisations.register_organisation(
            credit_code=_credit_code(), name="压测科技",
            kind="startup", by=member)
        member = bank.members.get_member(str(account.id)).actor()
        bank.subscriptions.subscribe(str(organisation.id), str(plan.id),
                                   accepted_terms_version=template["current_version"], by=member)
        _, plaintext = bank.api_keys.create_api_key(str(organisation.id), name="bench",
                                                      scopes=["rows:read"], by=member)
        if for_datasette:
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
    db.execute(f"CREATE TABLE enterprise ({', '.join(json.dumps(c, ensure_ascii=False) for c in columns)})")
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


def wrk_start(url: str, seconds: int, connections: int, script: Path | None = None, *,
              threads: int = 2) -> tuple[str, subprocess.Popen]:
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    return url, subprocess.Popen(command + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_result(started: tuple[str, subprocess.Popen], *, strict: bool = True) -> dict[str, float]:
    """Requests/s and the 50th and 99th percentile latency (ms) of a finished wrk run.

    :param strict: stop on any failed response (else count them: Datasette refuses queries over
        its time limit, which its scans under load reach)"""
    url, proc = started
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"wrk {url} exited with {proc.returncode}: {err}\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx and strict:
        raise SystemExit(f"{url}: {non2xx.group(1)} failed responses\n{out}")
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "failed": float(non2xx.group(1)) if non2xx else 0.0}
    for pct in ("50", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        result[f"p{pct}"] = float(value) * _UNITS[unit]
    return result


def wrk(url: str, seconds: int, connections: int, script: Path | None = None, *, threads: int = 2) -> float:
    return wrk_result(wrk_start(url, seconds, connections, script, threads=threads))["rps"]


WORKLOADS = {
    # name: (query, variables beyond the asset id) — the first page, a filtered page and a page
    # deep in the table behind a cursor (the cursor is fetched from each server before the runs).
    "first": ("query Rows($a: ID!) { rows(assetId: $a, first: 100) { rows pageInfo { endCursor } } }", {}),
    "filtered": ("query Rows($a: ID!, $w: GenericScalar) { rows(assetId: $a, where: $w, first: 100) "
                 "{ rows pageInfo { endCursor } } }", {"w": {"所属区县": "霍山县"}}),
    "deep": ("query Rows($a: ID!, $c: String) { rows(assetId: $a, first: 100, after: $c) "
             "{ rows pageInfo { endCursor } } }", {}),
    # A filter on a column without an index (issue 11): the table is scanned for a few rows.
    "scan": ("query Rows($a: ID!, $w: GenericScalar) { rows(assetId: $a, where: $w, first: 100) "
             "{ rows pageInfo { endCursor } } }", {"w": {"成立日期": {"gte": "2025-12-30"}}}),
}
#: ``mixed`` (issue 11): first pages on MIXED_FIRST connections while MIXED_SCAN connections run
#: the scan, against first pages alone on MIXED_FIRST connections: their p50/p99 side by side.
MIXED_FIRST, MIXED_SCAN = 14, 2


def deep_cursor(base: str, key: str, asset_id: str, rows: int = 80_000) -> str:
    """The cursor after the first ``rows`` rows, paged 1,000 at a time from that server."""
    cursor = None
    query = WORKLOADS["deep"][0].replace("first: 100", "first: 1000")
    for _ in range(rows // 1000):
        answer = httpx.post(base + "/graphql", json={"query": query, "variables": {"a": asset_id, "c": cursor}},
                            headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
        cursor = answer["data"]["rows"]["pageInfo"]["endCursor"]
    return cursor


def wrk_script(path: Path, body: str, key: str) -> Path:
    path.write_text('wrk.method = "POST"\nwrk.body = ' + json.dumps(body) + "\n"
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    f'wrk.headers["Authorization"] = "Bearer {key}"\n', encoding="utf-8")
    return path


def seed_with(python: Path, root: Path, data_dir: Path, full_columns: tuple[str, ...]) -> tuple[str, str]:
    """Seed ``data_dir`` with the code of the checkout ``root`` (its own virtualenv and its own
    copy of this script: the seeding calls that checkout's services, whose names may differ)."""
    script = root / "bench" / "access_bench.py"
    if not script.exists():
        script = Path(__file__).resolve()
    out = subprocess.run([str(python), str(script), "--seed-only", str(data_dir),
                          "--root", str(root), "--full-columns", *full_columns],
                         check=True, capture_output=True, text=True).stdout
    seeded = json.loads(out.strip().splitlines()[-1])
    return seeded["asset"], seeded["key"]


def postgres_schema(url: str) -> tuple[str, str]:
    """A fresh schema for this run: (its name, the database URL that selects it)."""
    import psycopg

    schema = f"bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{url}{'&' if '?' in url else '?'}schema={schema}"


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    parser.add_argument("--workloads", nargs="*", choices=sorted([*WORKLOADS, "mixed"]),
                        default=["first"])
    parser.add_argument("--no-unmetered", action="store_true", help="skip the metering-off server")
    parser.add_argument("--scan-where", type=json.loads, default=WORKLOADS["scan"][1]["w"],
                        help='the scan\'s filter, JSON {"column": {"op": value}} (default a late '
                             "成立日期; a column the code under test indexes is no scan: pick another)")
    parser.add_argument("--baseline", type=Path,
                        help="another checkout with its own .venv (e.g. a git worktree of an earlier "
                             "commit): its server runs beside ours, seeded by its own code")
    parser.add_argument("--full-columns", nargs="*", default=[],
                        help="columns the bench plan leaves unmasked (e.g. 住所, to compare with a "
                             "checkout that did not mask it)")
    parser.add_argument("--postgres", metavar="URL",
                        help="serve from PostgreSQL (a fresh schema in this database, dropped after)")
    parser.add_argument("--workers", type=int, default=1,
                        help="`databank serve --workers N` (PostgreSQL only; default 1)")
    parser.add_argument("--json", type=Path,  # issue 11: bench/driver.py reads it
                        help='also write every run\'s wrk figures as JSON: {"latency": {"<server> <workload>": [...]}}')
    parser.add_argument("--seed-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        asset_id, key = seed(args.seed_only, root=args.root, for_datasette=False,
                             full_columns=tuple(args.full_columns))
        print(json.dumps({"asset": asset_id, "key": key}))
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    if args.workers < 1 or (args.workers > 1 and not args.postgres):
        raise SystemExit("--workers N > 1 needs --postgres URL (SQLite is served by one process)")
    if args.postgres and args.baseline:
        raise SystemExit("--baseline is SQLite only: run the other checkout's bench with --postgres instead")
    schema, database_url = postgres_schema(args.postgres) if args.postgres else (None, None)
    try:
        run_all(args, database_url)
    finally:
        if schema:
            drop_schema(args.postgres, schema)


def run_all(args: argparse.Namespace, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        asset_id, key = seed(data_dir, full_columns=tuple(args.full_columns), database_url=database_url)
        database = {"DATABANK_DATABASE_URL": database_url} if database_url else {}
        # name -> (databank executable, data dir, extra environment, asset id, key)
        variants = {"metered": (VENV_BIN / "databank", data_dir, database, asset_id, key)}
        if not args.no_unmetered:
            variants["unmetered"] = (VENV_BIN / "databank", data_dir,
                                     {**database, "DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS": "1"},
                                     asset_id, key)
        if args.baseline:
            base_python = args.baseline / ".venv" / "bin" / "python"
            base_dir = Path(tmp) / "baseline-var"
            base_asset, base_key = seed_with(base_python, args.baseline, base_dir,
                                             tuple(args.full_columns))
            variants["baseline"] = (base_python.parent / "databank", base_dir, {}, base_asset, base_key)
        servers = {}
        try:
            port = free_port()
            servers["datasette"] = (subprocess.Popen(
                [str(datasette_bin()), "serve", str(OUT / "datasette" / "db.db"), "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), f"http://127.0.0.1:{port}")
            for name, (executable, directory, extra, _, _) in variants.items():
                port = free_port()
                env = {**os.environ, "DATABANK_DATA_DIR": str(directory), "DATABANK_ENV": "production", **extra}
                servers[name] = (subprocess.Popen(
                    [str(executable), "serve", "--no-demo", "--port", str(port),
                     *(["--workers", str(args.workers)] if args.postgres else [])], env=env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), f"http://127.0.0.1:{port}")
            for name, (proc, base) in servers.items():
                wait_until_up(base + ("/" if name == "datasette" else "/healthz"), proc)
            scripts: dict[tuple[str, str], Path] = {}
            needed = [w for w in WORKLOADS if w in args.workloads
                      or (w in ("first", "scan") and "mixed" in args.workloads)]
            for name, (_, _, _, asset, secret) in variants.items():
                base = servers[name][1]
                for workload in needed:
                    query, extra_vars = WORKLOADS[workload]
                    variables = {"a": asset, **extra_vars}
                    if workload == "scan":
                        variables["w"] = args.scan_where
                    if workload == "deep":
                        variables["c"] = deep_cursor(base, secret, asset)
                    body = json.dumps({"query": query, "variables": variables})
                    check = httpx.post(base + "/graphql", content=body, headers={
                        "Content-Type": "application/json", "Authorization": f"Bearer {secret}"}).json()
                    found = len(check["data"]["rows"]["rows"])
                    assert found < 100 if workload == "scan" else found == 100, check
                    assert not found or "*" in check["data"]["rows"]["rows"][0]["联系电话"], "masking must be on"
                    scripts[name, workload] = wrk_script(Path(tmp) / f"{name}-{workload}.lua", body, secret)
            datasette_urls = {"first": "/db/enterprise.json?_size=100&_shape=array",
                              "filtered": "/db/enterprise.json?_size=100&_shape=array&" + urlencode({"所属区县": "霍山县"}),
                              "deep": "/db/enterprise.json?_size=100&_shape=array&_next=80000",
                              "scan": "/db/enterprise.json?_size=100&_shape=array&" + urlencode(
                                  {f"{column}__{op}": value for column, condition in args.scan_where.items()
                                   for op, value in condition.items()})}
            results: dict[tuple[str, str], list[float]] = {}
            latency: dict[tuple[str, str], list[dict[str, float]]] = {}
            for run in range(args.runs):
                line = []
                for workload in args.workloads:
                    if workload == "mixed":
                        for name in ["datasette", *variants]:
                            base = servers[name][1]

                            def load(w: str, connections: int) -> tuple[str, subprocess.Popen]:
                                if name == "datasette":
                                    return wrk_start(base + datasette_urls[w], args.seconds, connections,
                                                     threads=args.threads)
                                return wrk_start(base + "/graphql", args.seconds, connections,
                                                 scripts[name, w], threads=args.threads)

                            solo = wrk_result(load("first", MIXED_FIRST))
                            first, scan = load("first", MIXED_FIRST), load("scan", MIXED_SCAN)
                            mixed, scanning = wrk_result(first), wrk_result(scan, strict=name != "datasette")
                            latency.setdefault((name, "solo"), []).append(solo)
                            latency.setdefault((name, "mixed"), []).append(mixed)
                            latency.setdefault((name, "mixed-scan"), []).append(scanning)
                            line.append(f"mixed {name}: first p99 solo {solo['p99']:.1f} ms / mixed "
                                        f"{mixed['p99']:.1f} ms, scans {scanning['rps']:,.0f}/s"
                                        + (f" ({scanning['failed']:.0f} refused)" if scanning["failed"] else ""))
                        continue
                    stats = {"datasette": wrk_result(wrk_start(
                        servers["datasette"][1] + datasette_urls[workload], args.seconds, args.connections,
                        threads=args.threads))}
                    for name in variants:
                        stats[name] = wrk_result(wrk_start(servers[name][1] + "/graphql", args.seconds,
                                                           args.connections, scripts[name, workload],
                                                           threads=args.threads))
                    measured = {name: value["rps"] for name, value in stats.items()}
                    for name, value in stats.items():
                        results.setdefault((workload, name), []).append(value["rps"])
                        latency.setdefault((name, workload), []).append(value)
                    line.append(f"{workload}: " + ", ".join(f"{k} {v:,.0f}" for k, v in measured.items()))
                print(f"run {run + 1}: " + " | ".join(line) + " req/s", flush=True)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)
        served = f"PostgreSQL, {args.workers} worker(s): " if database_url else ""  # SQLite's line unchanged
        print(f"\n{served}medians of {args.runs} runs, wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, "
              "100-row pages (req/s; ratios are medians of the per-run ratios):")
        for name in ["datasette", *variants] if "mixed" in args.workloads else []:
            def median_of(kind: str, field: str) -> float:
                return statistics.median(r[field] for r in latency[name, kind])

            print(f"  mixed     {name:9} first pages p50/p99 solo {median_of('solo', 'p50'):.1f}/"
                  f"{median_of('solo', 'p99'):.1f} ms, with {MIXED_SCAN} scanning connections "
                  f"{median_of('mixed', 'p50'):.1f}/{median_of('mixed', 'p99'):.1f} ms "
                  f"(p99 {median_of('mixed', 'p99') / median_of('solo', 'p99'):.2f}x solo); "
                  f"first pages {median_of('mixed', 'rps'):,.0f}/s, scans {median_of('mixed-scan', 'rps'):,.0f}/s")
        for workload in [w for w in args.workloads if w != "mixed"]:
            med = {name: statistics.median(results[workload, name]) for name in ["datasette", *variants]}

            def ratio(a: str, b: str) -> float:
                return statistics.median(x / y for x, y in zip(results[workload, a], results[workload, b]))

            print(f"  {workload:9} Datasette {med['datasette']:7,.0f} | ours metered {med['metered']:7,.0f} "
                  f"= {ratio('metered', 'datasette'):.1f}x Datasette", end="")
            if "unmetered" in med:
                print(f" | metering off {med['unmetered']:7,.0f} = {100 * (ratio('unmetered', 'metered') - 1):+.0f}%",
                      end="")
            if "baseline" in med:
                print(f" | baseline {med['baseline']:7,.0f}: ours/baseline "
                      f"{100 * (ratio('metered', 'baseline') - 1):+.1f}%", end="")
            p99 = {name: statistics.median(r["p99"] for r in latency[name, workload])
                   for name in ["datasette", *variants]}
            print(" | p99 ms " + ", ".join(f"{name} {value:.1f}" for name, value in p99.items()))
    if args.json:  # issue 11: the per-run wrk figures for bench/driver.py (medians and ratios there)
        args.json.write_text(json.dumps({"latency": {f"{name} {kind}": runs for (name, kind), runs in latency.items()}},
                                        ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
