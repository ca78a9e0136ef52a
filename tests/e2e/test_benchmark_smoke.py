"""The one benchmark command keeps working (issue 11): ``bench/run --smoke`` runs every bench
script on small data and every row of its table comes back with numbers.

What is asserted is the shape, never the speed: each step ran, each measured row has a number
for ours (and for the figure beside it where the step measures one), and the rows left out are
left out by design — Datasette (which would be pip-installed) and the PostgreSQL workers are not
in smoke mode, PostgreSQL rows without a URL say so.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: every row the smoke run must measure: (group, the start of the row's name)
EXPECTED = [
    *[(f"access, wrk -t{t}", name) for t in (1, 2) for name in (
        "first 100-row page", "100 rows deep", "equality filter", "成立日期", "metering and quota off",
        "mixed: first pages")],
    ("import", "import 3,000 rows, validation on (SQLite)"),
    ("export", "CSV export, full tier"), ("export", "CSV export, masked tier"),
    ("export", "SDK export(format='parquet')"), ("export", "SDK export(format='csv')"),
    ("ledger", "usage records, SQLite spread"), ("ledger", "usage records, SQLite hot"),
    ("catalogue", "list/search p95"), ("catalogue", "rebuild from"),
]
LEFT_OUT_BY_DESIGN = {"not in smoke mode", "no PostgreSQL URL"}


def test_the_smoke_run_fills_every_row_with_numbers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABANK_")}
    if os.environ.get("DATABANK_TEST_POSTGRES_URL"):
        env["DATABANK_TEST_POSTGRES_URL"] = os.environ["DATABANK_TEST_POSTGRES_URL"]
    done = subprocess.run([str(ROOT / "bench" / "run"), "--smoke", "--out", str(tmp_path)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Datasette: not in smoke mode" in done.stdout

    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["smoke"] is True and results["failed"] == []
    assert set(results["step_seconds"]) == {"access", "postgres", "import", "export", "ledger", "catalogue"}
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["sqlite"] and machine["python"]
    assert len(machine["load_average_before"]) == 3 == len(machine["load_average_after"])

    rows = results["rows"]
    for group, name in EXPECTED:
        matching = [r for r in rows if r["group"] == group and r["name"].startswith(name)]
        assert len(matching) == 1, (group, name, [r["name"] for r in rows if r["group"] == group])
    for r in rows:
        if r["status"] != "measured":
            assert r["status"] in LEFT_OUT_BY_DESIGN, r
            continue
        assert isinstance(r["ours"], (int, float)) and r["ours"] > 0, r
        if r["beside_name"]:
            assert isinstance(r["beside"], (int, float)) and r["beside"] > 0, r
            assert isinstance(r["ratio"], (int, float)) and r["ratio"] > 0, r
        # no Datasette figure in smoke mode, by design
        assert r["beside_name"] != "Datasette", r
        assert r["met"] is None, r
    measured = {(r["group"], r["name"]) for r in rows if r["status"] == "measured"}
    if env.get("DATABANK_TEST_POSTGRES_URL"):
        assert any(g == "ledger" and n.startswith("usage records, PostgreSQL") for g, n in measured)
