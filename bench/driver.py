"""One benchmark command (issue 11): every bench script, one table, JSON and docs/benchmarks.md.

    bench/run [--smoke] [--out DIR] [--doc PATH] [--postgres URL] [--runs N] [--seconds S]
    .venv/bin/python -m bench ...        (the same)

Runs each bench script as a subprocess with ``--json PATH`` (its output goes to
``OUT/logs/<step>.log``), then gathers one table of rows — ours, the figure measured beside it
(Datasette, a plain baseline), the ratio, the issue's target and whether it is met — written to
``OUT/results.json`` and, in a full run, to docs/benchmarks.md with the machine described.

``--smoke`` is the same path on small data in about a minute: it exists so that the test suite
runs it (tests/e2e/test_benchmark_smoke.py) and the benchmark cannot rot. It never downloads:
Datasette (which access_bench pip-installs on first use) is left out by design, so the access
rows have no Datasette figure in smoke mode; the access path is driven through access_bench's own
helpers instead of its main() (which always starts Datasette).

A step that fails does not stop the others: its rows say "failed" with the reason, and the
command exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = Path(sys.executable)
VENV_BIN = PYTHON.parent
ACCESS_WORKLOADS = ("first", "deep", "filtered", "scan")
#: the per-request work of the access rows, named as the issue names them
ACCESS_LABELS = {"first": "first 100-row page", "deep": "100 rows deep in the table (keyset cursor)",
                 "filtered": "equality filter 所属区县 = 霍山县",
                 "scan": "成立日期 ≥ 2025-12-30 (no index: a scan)"}
NOT_IN_SMOKE = "not in smoke mode"

Row = dict[str, Any]


class Sizes:
    """How big and how long each step runs: the full run (the issue's sizes) or the smoke run."""

    def __init__(self, smoke: bool, runs: int | None, seconds: int | None) -> None:
        self.smoke = smoke
        self.runs = runs or (1 if smoke else 3)
        self.seconds = seconds or (1 if smoke else 10)
        self.registry_rows = 3_000 if smoke else 1_000_000
        self.access_rows = 3_000 if smoke else 100_000  # the access bench's demo: 100k rows
        self.catalogue_assets = 200 if smoke else 10_000
        self.ledger_seconds = 0.5 if smoke else 3.0


# --- the machine ------------------------------------------------------------------------------

def _proc_field(path: str, name: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return "unknown"


def postgres_version(url: str | None) -> str:
    if not url:
        return "not configured"
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except Exception as error:  # noqa: BLE001 - a machine description must not stop the run
        return f"unreachable ({error.__class__.__name__})"


def machine(postgres_url: str | None) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory": _proc_field("/proc/meminfo", "MemTotal"),
        "cpu": _proc_field("/proc/cpuinfo", "model name"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(postgres_url),
        "load_average_before": list(os.getloadavg()),
    }


# --- running the scripts ----------------------------------------------------------------------

class StepFailed(Exception):
    pass


def run_script(out: Path, step: str, script: str, args: list[str]) -> dict[str, Any]:
    """Run ``bench/<script> ARGS --json OUT/<step>.json``, its output into ``OUT/logs``."""
    json_path = out / f"{step}.json"
    json_path.unlink(missing_ok=True)
    log_path = out / "logs" / f"{step}.log"
    command = [str(PYTHON), str(BENCH / script), *args, "--json", str(json_path)]
    with log_path.open("w", encoding="utf-8") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        code = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0:
        tail = log_path.read_text(encoding="utf-8").strip().splitlines()[-5:]
        raise StepFailed(f"{script} exited with {code}: " + " / ".join(tail))
    data: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
    return data


def supports(script: str, flag: str) -> bool:
    """Whether a bench script takes ``flag`` (access_bench gains flags while others work on it)."""
    help_text = subprocess.run([str(PYTHON), str(BENCH / script), "--help"], cwd=ROOT,
                               capture_output=True, text=True, check=False).stdout
    return flag in help_text


def row(group: str, name: str, *, ours: float | None, unit: str, beside: float | None = None,
        beside_name: str = "", ratio: float | None = None, target: str = "", met: bool | None = None,
        note: str = "") -> Row:
    return {"group": group, "name": name, "ours": ours, "unit": unit, "beside": beside,
            "beside_name": beside_name, "ratio": ratio, "target": target, "met": met, "note": note,
            "status": "measured"}


def unavailable(group: str, name: str, reason: str, *, target: str = "") -> Row:
    return {"group": group, "name": name, "ours": None, "unit": "", "beside": None, "beside_name": "",
            "ratio": None, "target": target, "met": None, "note": reason, "status": reason}


# --- access: our server against Datasette -----------------------------------------------------

def _median(values: list[float]) -> float:
    return statistics.median(values)


def access_rows(latency: dict[str, list[dict[str, float]]], threads: int, smoke: bool) -> list[Row]:
    """Rows from access_bench's per-run wrk results, keyed ``"<server> <workload or kind>"``."""
    rows: list[Row] = []
    group = f"access, wrk -t{threads}"
    datasette_note = "Datasette: " + NOT_IN_SMOKE if smoke else ""
    for workload in ACCESS_WORKLOADS:
        ours = latency.get(f"metered {workload}")
        if not ours:
            rows.append(unavailable(group, ACCESS_LABELS[workload], "not measured"))
            continue
        theirs = latency.get(f"datasette {workload}")
        p50, p99 = _median([r["p50"] for r in ours]), _median([r["p99"] for r in ours])
        ratio = _median([a["rps"] / b["rps"] for a, b in zip(ours, theirs)]) if theirs else None
        goal = 3.0 if workload == "scan" else 10.0
        target = f"≥ {goal:g}× Datasette" + (", p99 ≤ 3× p50" if workload == "scan" else "")
        met = None if ratio is None else ratio >= goal and (workload != "scan" or p99 <= 3 * p50)
        note = f"p50/p99 {p50:.1f}/{p99:.1f} ms"
        if theirs:
            note += f"; Datasette p99 {_median([r['p99'] for r in theirs]):.1f} ms"
        rows.append(row(group, ACCESS_LABELS[workload], ours=_median([r["rps"] for r in ours]),
                        unit="req/s", beside=_median([r["rps"] for r in theirs]) if theirs else None,
                        beside_name="Datasette" if theirs else "", ratio=ratio, target=target, met=met,
                        note="; ".join(n for n in (note, datasette_note) if n)))
    metered, unmetered = latency.get("metered first"), latency.get("unmetered first")
    if metered and unmetered:
        cost = _median([u["rps"] / m["rps"] for u, m in zip(unmetered, metered)]) - 1
        rows.append(row(group, "metering and quota off vs on (first page)",
                        ours=_median([m["rps"] for m in metered]), unit="req/s",
                        beside=_median([u["rps"] for u in unmetered]), beside_name="metering off",
                        ratio=1 + cost, target="metering off ≤ 10% faster", met=cost <= 0.10,
                        note=f"metering costs {100 * cost:+.0f}%"))
    else:
        rows.append(unavailable(group, "metering and quota off vs on (first page)", "not measured"))
    solo, mixed = latency.get("metered solo"), latency.get("metered mixed")
    if solo and mixed:
        growth = _median([m["p99"] for m in mixed]) / _median([s["p99"] for s in solo])
        theirs = latency.get("datasette mixed")
        rows.append(row(group, "mixed: first pages on 14 connections while 2 scan (p99)",
                        ours=_median([m["p99"] for m in mixed]), unit="ms p99",
                        beside=_median([s["p99"] for s in solo]), beside_name="first pages alone",
                        ratio=growth, target="≤ 1.5× the solo p99", met=growth <= 1.5,
                        note="; ".join(n for n in (
                            f"scans {_median([r['rps'] for r in latency['metered mixed-scan']]):,.0f}/s",
                            f"Datasette mixed p99 {_median([r['p99'] for r in theirs]):.1f} ms" if theirs else "",
                            datasette_note) if n)))
    else:
        rows.append(unavailable(group, "mixed: first pages on 14 connections while 2 scan (p99)",
                                "not measured"))
    return rows


def access_full(out: Path, sizes: Sizes, threads: int) -> list[Row]:
    if not supports("access_bench.py", "--json"):
        return [unavailable(f"access, wrk -t{threads}", "all access workloads",
                            "access_bench.py has no --json flag")]
    data = run_script(out, f"access-t{threads}", "access_bench.py", [
        "--runs", str(sizes.runs), "--seconds", str(sizes.seconds), "--threads", str(threads),
        "--workloads", *ACCESS_WORKLOADS, "mixed"])
    return access_rows(data["latency"], threads, smoke=False)


def access_postgres(out: Path, sizes: Sizes, url: str | None) -> list[Row]:
    """PostgreSQL with 1, 2 and 4 workers, first pages against Datasette (issue: ≥ 3× at 2)."""
    rows = []
    available = not sizes.smoke and url and supports("access_bench.py", "--workers") \
        and supports("access_bench.py", "--json")
    for workers in (1, 2, 4):
        name = f"PostgreSQL, {workers} worker{'s' if workers > 1 else ''}: first page"
        target = "≥ 3× Datasette" if workers == 2 else ""
        if sizes.smoke:
            rows.append(unavailable("access, PostgreSQL", name, NOT_IN_SMOKE, target=target))
            continue
        if not available:
            reason = "no PostgreSQL URL" if not url else "not available (access_bench.py has no --workers)"
            rows.append(unavailable("access, PostgreSQL", name, reason, target=target))
            continue
        try:
            data = run_script(out, f"access-postgres-{workers}", "access_bench.py", [
                "--runs", str(sizes.runs), "--seconds", str(sizes.seconds), "--threads", "2",
                "--workloads", "first", "--no-unmetered", "--postgres", str(url), "--workers", str(workers)])
        except StepFailed as error:
            rows.append(unavailable("access, PostgreSQL", name, f"failed: {error}", target=target))
            continue
        ours, theirs = data["latency"].get("metered first"), data["latency"].get("datasette first")
        if not ours or not theirs:
            rows.append(unavailable("access, PostgreSQL", name, "not in access_bench's output", target=target))
            continue
        ratio = _median([a["rps"] / b["rps"] for a, b in zip(ours, theirs)])
        rows.append(row("access, PostgreSQL", name, ours=_median([r["rps"] for r in ours]), unit="req/s",
                        beside=_median([r["rps"] for r in theirs]), beside_name="Datasette", ratio=ratio,
                        target=target, met=ratio >= 3 if workers == 2 else None,
                        note=f"p99 {_median([r['p99'] for r in ours]):.1f} ms"))
    return rows


def access_smoke(sizes: Sizes, threads: int) -> list[Row]:
    """The access workloads on a small demo, our servers only (metered and metering off), through
    access_bench's own helpers so that a change to them is caught here too."""
    sys.path.insert(0, str(BENCH))
    import access_bench as ab

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        env = {**os.environ, "DATABANK_DATA_DIR": str(data_dir)}
        # seeded small first: ab.seed's own `databank demo` then finds the demo in place
        subprocess.run([str(VENV_BIN / "databank"), "demo", "--enterprise-rows", str(sizes.access_rows)],
                       env=env, check=True, capture_output=True)
        asset, key = ab.seed(data_dir, for_datasette=False)
        servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
        try:
            variants: dict[str, dict[str, str]] = {
                "metered": {}, "unmetered": {"DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS": "1"}}
            for name, extra in variants.items():
                port = ab.free_port()
                servers[name] = (subprocess.Popen(
                    [str(VENV_BIN / "databank"), "serve", "--no-demo", "--port", str(port)],
                    env={**env, "DATABANK_ENV": "production", **extra},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), f"http://127.0.0.1:{port}")
            latency: dict[str, list[dict[str, float]]] = {}
            for name, (proc, base) in servers.items():
                ab.wait_until_up(base + "/healthz", proc)
                scripts = {}
                for workload in ACCESS_WORKLOADS:
                    query, extra_vars = ab.WORKLOADS[workload]
                    variables: dict[str, Any] = {"a": asset}
                    variables.update(extra_vars)
                    if workload == "deep":
                        variables["c"] = ab.deep_cursor(base, key, asset, rows=sizes.access_rows // 2)
                    scripts[workload] = ab.wrk_script(Path(tmp) / f"{name}-{workload}.lua",
                                                      json.dumps({"query": query, "variables": variables}), key)
                url = base + "/graphql"
                for _ in range(sizes.runs):
                    for workload in ACCESS_WORKLOADS:
                        latency.setdefault(f"{name} {workload}", []).append(ab.wrk_result(
                            ab.wrk_start(url, sizes.seconds, 16, scripts[workload], threads=threads)))
                    solo = ab.wrk_result(ab.wrk_start(url, sizes.seconds, ab.MIXED_FIRST, scripts["first"],
                                                      threads=threads))
                    first = ab.wrk_start(url, sizes.seconds, ab.MIXED_FIRST, scripts["first"], threads=threads)
                    scan = ab.wrk_start(url, sizes.seconds, ab.MIXED_SCAN, scripts["scan"], threads=threads)
                    latency.setdefault(f"{name} solo", []).append(solo)
                    latency.setdefault(f"{name} mixed", []).append(ab.wrk_result(first))
                    latency.setdefault(f"{name} mixed-scan", []).append(ab.wrk_result(scan))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)
    print("Datasette: " + NOT_IN_SMOKE, flush=True)
    return access_rows(latency, threads, smoke=True)


# --- the other scripts ------------------------------------------------------------------------

def import_rows(out: Path, sizes: Sizes, url: str | None) -> list[Row]:
    rows = []
    for backend in ("sqlite", "postgres"):
        name = f"import {sizes.registry_rows:,} rows, validation on ({'SQLite' if backend == 'sqlite' else 'PostgreSQL'})"
        if backend == "postgres" and (sizes.smoke or not url):
            rows.append(unavailable("import", name, NOT_IN_SMOKE if sizes.smoke else "no PostgreSQL URL"))
            continue
        args = ["--rows", str(sizes.registry_rows), "--runs", str(sizes.runs), "--backend", backend]
        data = run_script(out, f"import-{backend}", "import_bench.py",
                          args + (["--postgres-url", url] if backend == "postgres" and url else []))
        rate = data["rows_per_second"]
        rows.append(row("import", name, ours=rate, unit="rows/s", beside=data["baseline_rows_per_second"],
                        beside_name=data["baseline"], ratio=rate / data["baseline_rows_per_second"],
                        target="≥ 100,000 rows/s, peak RSS ≤ 200 MB",
                        met=rate >= 100_000 and data["peak_rss_mb"] <= 200,
                        note=f"peak RSS {data['peak_rss_mb']:.0f} MB; indexed: {', '.join(data['filterable'])}"))
    return rows


def export_rows(out: Path, sizes: Sizes) -> list[Row]:
    rows = []
    for tier in ("full", "masked"):
        data = run_script(out, f"export-{tier}", "export_bench.py",
                          ["--rows", str(sizes.registry_rows), "--tier", tier, "--runs", str(max(sizes.runs - 1, 1))])
        rate = data["best_rows_per_second"]
        rows.append(row("export", f"CSV export, {tier} tier, {sizes.registry_rows:,} rows", ours=rate,
                        unit="rows/s", beside=data["baseline_rows_per_second"],
                        beside_name="iter_rows + csv.writer in process",
                        ratio=rate / data["baseline_rows_per_second"],
                        target="≥ 200,000 rows/s, peak RSS growth ≤ 100 MB",
                        met=rate >= 200_000 and data["peak_rss_growth_mb"] <= 100,
                        note=f"best of {len(data['runs'])}; server peak RSS growth {data['peak_rss_growth_mb']} MB"))
    data = run_script(out, "sdk-export", "sdk_export_bench.py",
                      ["--rows", str(sizes.registry_rows), "--runs", str(sizes.runs)])
    for format, figures in data["formats"].items():
        seconds = figures["median_seconds"]
        rows.append(row("export", f"SDK export(format={format!r}).to_pandas(), {sizes.registry_rows:,} rows",
                        ours=figures["rows_per_second"], unit="rows/s",
                        beside=data["server_csv_rows_per_second"], beside_name="server CSV, raw httpx",
                        ratio=figures["rows_per_second"] / data["server_csv_rows_per_second"],
                        target="≤ 15 s for 1M rows",
                        met=(seconds <= 15) if not sizes.smoke else None,
                        note=f"median {seconds:.2f} s; client peak RSS {data['client_peak_rss_mb']} MB"))
    return rows


def ledger_rows(out: Path, sizes: Sizes, url: str | None) -> list[Row]:
    args = ["--seconds", str(sizes.ledger_seconds), "--runs", str(sizes.runs)]
    if sizes.smoke:
        args.append("--no-processes")
    env_url = {"DATABANK_BENCH_POSTGRES_URL": url} if url else {}
    previous = {k: os.environ.get(k) for k in env_url}
    os.environ.update(env_url)
    try:
        data = run_script(out, "ledger", "ledger_bench.py", args)
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    rows = []
    for name, figures in data["figures"].items():
        single = figures.get("one_transaction_per_record")
        rows.append(row("ledger", f"usage records, {name}, {figures['threads']} threads", ours=figures["group_commit"],
                        unit="records/s", beside=single, beside_name="one transaction per record" if single else "",
                        ratio=figures["group_commit"] / single if single else None,
                        target="≥ 10,000 records/s" if name.startswith("PostgreSQL") else "",
                        met=figures["group_commit"] >= 10_000 if name.startswith("PostgreSQL") else None))
    if not data["postgres"]:
        rows.append(unavailable("ledger", "usage records, PostgreSQL", "no PostgreSQL URL"))
    return rows


def catalogue_rows(out: Path, sizes: Sizes) -> list[Row]:
    data = run_script(out, "catalogue", "catalogue_bench.py",
                      ["--assets", str(sizes.catalogue_assets), "--runs", str(sizes.runs)])
    return [row("catalogue", f"list/search p95 over {data['assets']:,} assets", ours=data["search_p95_ms"],
                unit="ms p95", beside=data["baseline_like_scan_p95_ms"], beside_name="LIKE scan, no index",
                ratio=data["baseline_like_scan_p95_ms"] / data["search_p95_ms"], target="≤ 20 ms",
                met=data["search_p95_ms"] <= 20),
            row("catalogue", f"rebuild from {data['events']:,} events", ours=data["rebuild_seconds"], unit="s",
                target="≤ 10 s", met=data["rebuild_seconds"] <= 10)]


# --- the table --------------------------------------------------------------------------------

def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def table(rows: list[Row]) -> str:
    lines = ["| group | benchmark | ours | beside it | ratio | target | met | note |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        beside = f"{_number(r['beside'], r['unit'])} ({r['beside_name']})" if r["beside"] is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        ours = _number(r["ours"], r["unit"]) if r["status"] == "measured" else r["status"]
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else "—"
        note = r["note"] if r["status"] == "measured" else ""
        lines.append(f"| {r['group']} | {r['name']} | {ours} | {beside} | {ratio} | {r['target'] or '—'} "
                     f"| {met} | {note} |")
    return "\n".join(lines)


def write_doc(path: Path, results: dict[str, Any]) -> None:
    template = (BENCH / "benchmarks_template.md").read_text(encoding="utf-8")
    m = results["machine"]
    described = (f"{m['cores']} cores, {m['memory']} memory, {m['cpu']}; Linux {m['kernel']}; Python {m['python']}, "
                 f"SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}; load average "
                 f"{' / '.join(f'{x:.2f}' for x in m['load_average_before'])} before, "
                 f"{' / '.join(f'{x:.2f}' for x in m['load_average_after'])} after")
    text = (template.replace("{date}", results["date"]).replace("{machine}", described)
            .replace("{minutes}", f"{results['seconds'] / 60:.0f}").replace("{table}", table(results["rows"]))
            .replace("{steps}", ", ".join(f"{k} {v / 60:.1f} min" for k, v in results["step_seconds"].items())))
    path.write_text(text, encoding="utf-8")


# --- the command ------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small data, about a minute, no Datasette")
    parser.add_argument("--out", type=Path, default=None,
                        help="where results.json and the logs go (default bench/out, bench/out/smoke)")
    parser.add_argument("--doc", type=Path, default=None,
                        help="the Markdown report (default docs/benchmarks.md; none in smoke mode)")
    parser.add_argument("--postgres", default=os.environ.get("DATABANK_BENCH_POSTGRES_URL")
                        or os.environ.get("DATABANK_TEST_POSTGRES_URL"),
                        help="PostgreSQL URL for the ledger, import and worker rows (default from "
                             "DATABANK_BENCH_POSTGRES_URL or DATABANK_TEST_POSTGRES_URL)")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; 1 in smoke mode)")
    parser.add_argument("--seconds", type=int, help="wrk seconds per run (default 10; 1 in smoke mode)")
    parser.add_argument("--only", nargs="*", choices=["access", "postgres", "import", "export", "ledger", "catalogue"],
                        help="run these steps only")
    args = parser.parse_args(argv)
    sizes = Sizes(args.smoke, args.runs, args.seconds)
    out = args.out or (BENCH / "out" / ("smoke" if args.smoke else ""))
    (out / "logs").mkdir(parents=True, exist_ok=True)
    doc = args.doc or (None if args.smoke else ROOT / "docs" / "benchmarks.md")

    started = time.monotonic()
    results: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                               "smoke": args.smoke, "machine": machine(args.postgres), "rows": [],
                               "step_seconds": {}, "failed": []}
    access: Callable[[int], list[Row]] = (lambda t: access_smoke(sizes, t)) if args.smoke else \
        (lambda t: access_full(out, sizes, t))
    steps: list[tuple[str, Callable[[], list[Row]]]] = [
        ("access", lambda: access(1) + access(2)),
        ("postgres", lambda: access_postgres(out, sizes, args.postgres)),
        ("import", lambda: import_rows(out, sizes, args.postgres)),
        ("export", lambda: export_rows(out, sizes)),
        ("ledger", lambda: ledger_rows(out, sizes, args.postgres)),
        ("catalogue", lambda: catalogue_rows(out, sizes)),
    ]
    for step, measure in steps:
        if args.only and step not in args.only:
            continue
        print(f"== {step}", flush=True)
        step_started = time.monotonic()
        try:
            rows = measure()
        except Exception as error:  # noqa: BLE001 - one broken step must not hide the others' numbers
            traceback.print_exc()
            results["failed"].append(step)
            rows = [unavailable(step, f"{step} (every row)", f"failed: {error}")]
        if args.smoke:  # the targets are for the full sizes: judging them on 3,000 rows says nothing
            for r in rows:
                r["met"] = None
        results["step_seconds"][step] = round(time.monotonic() - step_started, 1)
        results["rows"].extend(rows)
        print(table(rows), flush=True)
    results["seconds"] = round(time.monotonic() - started, 1)
    results["machine"]["load_average_after"] = list(os.getloadavg())
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n" + table(results["rows"]))
    print(f"\n{results['seconds'] / 60:.1f} min; {out / 'results.json'}"
          + (f"; {doc}" if doc else ""))
    if doc:
        write_doc(doc, results)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
