"""Datastore import: 1M-row enterprise-registry CSV into SQLite or PostgreSQL, with types,
validation and the indexes of the filterable columns on.

    .venv/bin/python bench/import_bench.py [--rows 1000000] [--runs 3] [--keep DIR]
        [--backend sqlite|postgres] [--postgres-url URL] [--filterable 成立日期,所属区县]

Targets: >= 100k rows/s with identifier validation on, peak RSS <= 200 MB. Each import runs in a
child process that reports its own peak RSS (VmHWM), so the CSV generator does not count. Beside
it, a baseline: plain ``csv.reader`` + ``executemany`` into SQLite (``COPY`` of text columns into
PostgreSQL), no types, no validation, no index. Medians over --runs.

The key column (统一社会信用代码) is always indexed (unique); ``--filterable`` names the columns a
publisher declares filterable (default: the registry's date column, which is indexed without a
declaration, and 所属区县, the county filter users use). ``--filterable ''`` measures the key alone,
as the import did before filterable columns were indexed. A datastore without filterable columns
(an older checkout) ignores the option.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.identifiers import USCC_ALPHABET, org_code_check_char, uscc_check_char  # noqa: E402

HEADER = ["统一社会信用代码", "企业名称", "法定代表人", "注册资本", "成立日期", "所属区县", "行业",
          "经营状态", "登记机关", "联系电话"]
COUNTIES = ["金安区", "裕安区", "叶集区", "霍邱县", "舒城县", "金寨县", "霍山县"]
AREAS = ["341502", "341503", "341504", "341522", "341523", "341524", "341525"]
INDUSTRIES = ["农业", "制造业", "批发和零售业", "建筑业", "信息技术服务业", "住宿和餐饮业", "交通运输业"]
STATES = ["存续", "在业", "吊销", "注销", "迁出"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(rng: random.Random, area: str) -> str:
    org = "".join(rng.choice(ORG_ALPHABET) for _ in range(8))
    head = "91" + area + org + org_code_check_char(org)
    return head + uscc_check_char(head)


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """A registry CSV (UTF-8); about 1 in 200 codes has a broken check character, as in real data."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for n in range(rows):
            a = rng.randrange(7)
            code = uscc(rng, AREAS[a])
            if n % 200 == 199:
                code = code[:17] + USCC_ALPHABET[(USCC_ALPHABET.index(code[17]) + 1) % 31]
            name = f"六安市{COUNTIES[a]}{rng.choice(GIVEN)}{rng.choice(GIVEN)}{INDUSTRIES[n % 7][:2]}有限公司{n}"
            w.writerow([code, name, rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                        f"{rng.randrange(1, 100000)}.{rng.randrange(100):02d}",
                        f"{rng.randrange(1990, 2025)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                        COUNTIES[a], INDUSTRIES[rng.randrange(7)], rng.choice(STATES), f"六安市{COUNTIES[a]}市场监督管理局",
                        f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"])


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _spec(filterable: list[str]):  # the ImportSpec of the checkout under test (older: no filterable)
    from dataclasses import fields

    from marketplace.datastore import ImportSpec

    extra = {"filterable_columns": filterable} if any(
        f.name == "filterable_columns" for f in fields(ImportSpec)) else {}
    return ImportSpec("csv", key_columns=["统一社会信用代码"], **extra)


def child_datastore(csv_path: str, target: str, filterable: list[str]) -> dict:
    from marketplace.datastore import PostgresDatastore, SQLiteDatastore

    postgres = target.startswith("postgresql://")
    if postgres:
        import psycopg

        url, schema = target.rsplit("#", 1)
        with psycopg.connect(url, autocommit=True) as conn:  # what an interrupted run left
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        store = PostgresDatastore(url, schema=schema, pool_size=1)
    else:
        store = SQLiteDatastore(target)
    started = time.perf_counter()
    with open(csv_path, "rb") as f:
        result = store.import_version("registry", f, _spec(filterable))
    seconds = time.perf_counter() - started
    store.close()
    if postgres:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return {"rows": result.row_count, "seconds": seconds, "rss_mb": peak_rss_mb(),
            "invalid": result.quality["columns"]["统一社会信用代码"]["invalid"],
            "types": {c.name: c.type.value for c in result.columns},
            "detected": result.quality["detected_semantics"]}


def child_baseline(csv_path: str, db_path: str) -> dict:
    started = time.perf_counter()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        conn.execute("BEGIN")
        conn.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(len(header)))})")
        insert = f"INSERT INTO t VALUES ({', '.join('?' * len(header))})"
        rows = 0
        while batch := [row for _, row in zip(range(10_000), reader)]:
            conn.executemany(insert, batch)
            rows += len(batch)
        conn.execute("COMMIT")
    conn.close()
    return {"rows": rows, "seconds": time.perf_counter() - started, "rss_mb": peak_rss_mb()}


def child_postgres_baseline(csv_path: str, target: str) -> dict:
    import psycopg

    url, schema = target.rsplit("#", 1)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:  # what an interrupted run left
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    with psycopg.connect(url) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        with open(csv_path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            conn.execute(f'CREATE TABLE "{schema}".t ({", ".join(f"c{i} text" for i in range(len(header)))})')
            rows = 0
            with conn.cursor() as cur, cur.copy(f'COPY "{schema}".t FROM STDIN') as copy:
                for row in reader:
                    copy.write_row(row)
                    rows += 1
        conn.commit()
    seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return {"rows": rows, "seconds": seconds, "rss_mb": peak_rss_mb()}


def run_child(kind: str, csv_path: Path, workdir: Path, n: int, postgres_url: str | None,
              filterable: str) -> dict:
    db = workdir / f"{kind}-{n}.sqlite3"
    target = f"{postgres_url}#bench_import_{kind}_{n}" if postgres_url else str(db)
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(csv_path), target, filterable],
                         check=True, capture_output=True, text=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="directory for the CSV and databases (default: a temporary one)")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--filterable", default="成立日期,所属区县",
                        help="comma-separated columns declared filterable ('' for none)")
    parser.add_argument("--json", type=Path, help="also write the medians as JSON to this file")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, csv_path, target, filterable = args.child
        if kind == "datastore":
            result = child_datastore(csv_path, target, [c for c in filterable.split(",") if c])
        elif target.startswith("postgresql://"):
            result = child_postgres_baseline(csv_path, target)
        else:
            result = child_baseline(csv_path, target)
        print(json.dumps(result))
        return
    postgres_url = args.postgres_url if args.backend == "postgres" else None
    print(f"backend {args.backend}; filterable: {args.filterable or '(none: the key alone)'}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        csv_path = workdir / f"registry-{args.rows}.csv"
        if not csv_path.exists():
            started = time.perf_counter()
            generate(csv_path, args.rows)
            print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 2**20:.0f} MB) "
                  f"in {time.perf_counter() - started:.1f} s")
        results: dict[str, list[dict]] = {"datastore": [], "baseline": []}
        for n in range(args.runs):
            for kind in results:
                r = run_child(kind, csv_path, workdir, n, postgres_url, args.filterable)
                results[kind].append(r)
                print(f"run {n + 1} {kind:9s}: {r['rows'] / r['seconds']:>9,.0f} rows/s  "
                      f"{r['seconds']:.2f} s  peak RSS {r['rss_mb']:.0f} MB")
        first = results["datastore"][0]
        print(f"types: {first['types']}\ndetected semantics: {first['detected']}; "
              f"invalid codes reported: {first['invalid']:,}")
        rate = statistics.median(r["rows"] / r["seconds"] for r in results["datastore"])
        rss = statistics.median(r["rss_mb"] for r in results["datastore"])
        base = statistics.median(r["rows"] / r["seconds"] for r in results["baseline"])
        base_rss = statistics.median(r["rss_mb"] for r in results["baseline"])
        print(f"\nmedian of {args.runs}: datastore {rate:,.0f} rows/s, peak RSS {rss:.0f} MB "
              f"(target >= 100,000 rows/s, <= 200 MB) {'PASS' if rate >= 100_000 and rss <= 200 else 'FAIL'}")
        baseline = "COPY of text columns" if postgres_url else "csv.reader+executemany"
        print(f"baseline {baseline}: {base:,.0f} rows/s, peak RSS {base_rss:.0f} MB; "
              f"datastore/baseline = {rate / base:.2f}")
        if args.json:
            args.json.write_text(json.dumps({
                "backend": args.backend, "rows": args.rows, "runs": args.runs,
                "filterable": [c for c in args.filterable.split(",") if c],
                "rows_per_second": round(rate), "peak_rss_mb": round(rss, 1),
                "baseline": baseline, "baseline_rows_per_second": round(base),
                "baseline_peak_rss_mb": round(base_rss, 1)}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
