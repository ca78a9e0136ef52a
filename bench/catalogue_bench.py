"""Catalogue read model: list/search latency over 10k assets, and rebuild time from 100k events.

    .venv/bin/python bench/catalogue_bench.py [--assets 10000] [--runs 5]

Targets (issue 2): list/search p95 <= 20 ms in-process over 10k assets; rebuild of the catalogue
projection from 100k events <= 10 s. Baseline beside them: a plain SQLite LIKE scan over the same
entries without the read model's indexes (what a naive implementation would do).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from domain.actors import Actor, Role  # noqa: E402
from domain.asset import DataAsset, ResourceCodeSequence  # noqa: E402
from domain.department import Department  # noqa: E402
from domain.identifiers import org_code_check_char, uscc_check_char  # noqa: E402
from domain.metadata import AssetMetadata  # noqa: E402
from marketplace.datastore import SQLiteDatastore  # noqa: E402
from marketplace.projections.catalogue_view import CatalogueQuery  # noqa: E402
from marketplace.projections.follower import Follower  # noqa: E402
from marketplace.projections.sqlite_catalogue import SQLiteCatalogueView  # noqa: E402
from marketplace.services.catalogue import Catalogue  # noqa: E402
from marketplace.services.persistence import EventStoreConfig  # noqa: E402
from support.catalogue import sample_metadata  # noqa: E402

WORDS = ["企业", "人口", "公交", "医疗", "空气质量", "税务", "土地", "统计", "社会组织", "就业", "药品", "学校"]
CATEGORIES = ["enterprise", "population", "transport", "health", "energy_environment", "finance_tax",
              "geospatial", "statistics", "social_credit", "other"]
ADMIN = Actor("admin", "管理员", Role.ADMIN)
REVIEWER = Actor("reviewer", "审查员", Role.REVIEWER)


def _uscc(n: int) -> str:
    org = f"{n:08d}"
    head = "11341500" + org + org_code_check_char(org)
    return head + uscc_check_char(head)


def populate(app: Catalogue, assets: int) -> int:
    """Register departments and assets with versions, reviews and publication; returns events."""
    rng = random.Random(1)
    departments = [Department.register(code=_uscc(i + 1), name=f"部门{i}", contact="", by=ADMIN)
                   for i in range(8)]
    app.save(*departments)
    sequences: dict[str, ResourceCodeSequence] = {}
    batch: list = []
    for n in range(assets):
        dep = departments[n % 8]
        publisher = Actor("p", "发布员", Role.PUBLISHER, str(dep.id))
        word = rng.choice(WORDS)
        md = AssetMetadata.parse(sample_metadata(
            name=f"{word}数据集{n}", abstract=f"六安市{word}相关数据，第{n}号。",
            category=rng.choice(CATEGORIES),
            classification={"class_code": str(1 + n % 3), "item_code": f"{1 + n % 20:02d}",
                            "catalog_code": f"{1 + n % 7:03d}", "detail_code": ""}))
        seq = sequences.setdefault(md.classification.code,
                                   ResourceCodeSequence(classification_code=md.classification.code))
        asset = DataAsset.register(resource_code=seq.issue(md.classification),
                                   department_id=str(dep.id), metadata=md, by=publisher)
        for _ in range(5):
            asset.add_version(table="t", columns=[{"name": "站点编号", "type": "string"}], row_count=100,
                              content_hash="sha256:0", encoding="utf-8", source_format="csv",
                              bytes_read=1000, quality={"score": 100}, by=publisher)
        asset.submit_for_review(5, by=publisher)
        asset.approve(reason="ok", by=REVIEWER)
        if n % 10:
            asset.publish(5, by=publisher)
        batch.append(asset)
        if len(batch) == 200:
            app.save(*batch)
            batch = []
    app.save(*batch, *sequences.values())
    return app.recorder.max_notification_id()


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="print the slowest queries")
    parser.add_argument("--json", type=Path, help="also write the medians as JSON to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = EventStoreConfig(kind="sqlite", directory=Path(tmp) / "events")
        app = Catalogue(config.env_for("Catalogue"), datastore=SQLiteDatastore(":memory:"))
        started = time.perf_counter()
        events = populate(app, args.assets)
        print(f"populated {args.assets:,} assets = {events:,} events in {time.perf_counter() - started:.1f} s")
        view = SQLiteCatalogueView(Path(tmp) / "catalogue.sqlite3")
        follower = Follower(app, view, batch_size=1000)

        rebuilds = []
        for _ in range(args.runs):
            started = time.perf_counter()
            follower.rebuild()
            rebuilds.append(time.perf_counter() - started)
        print(f"rebuild from {events:,} events: median {statistics.median(rebuilds):.2f} s "
              f"({events / statistics.median(rebuilds):,.0f} events/s) over {args.runs} runs; target <= 10 s")

        queries = [CatalogueQuery(first=20)] + [CatalogueQuery(text=w, first=20) for w in WORDS] + [
            CatalogueQuery(category=c, first=20) for c in CATEGORIES] + [
            CatalogueQuery(text="数据集12", category="health", first=20),
            CatalogueQuery(class_code="2", open_type="unconditional", first=20)]
        p95s, baselines = [], []
        baseline_db = sqlite3.connect(Path(tmp) / "catalogue.sqlite3")
        for _ in range(args.runs):
            samples = []
            for q in queries * 10:
                started = time.perf_counter()
                page = view.search(q)
                samples.append((time.perf_counter() - started) * 1000)
                assert page.entries or q.text == "数据集12"
            p95s.append(percentile(samples, 95))
            if args.verbose:
                for q, ms in sorted(zip(queries * 10, samples), key=lambda x: -x[1])[:5]:
                    print(f"   slow: {ms:.2f} ms {q}")
            base = []
            for w in WORDS * 10:
                started = time.perf_counter()
                baseline_db.execute("SELECT doc FROM catalogue_docs WHERE doc LIKE '%\"published\"%' "
                                    "AND doc LIKE ? ORDER BY id LIMIT 21", (f"%{w}%",)).fetchall()
                base.append((time.perf_counter() - started) * 1000)
            baselines.append(percentile(base, 95))
        print(f"list/search over {args.assets:,} assets: p95 median {statistics.median(p95s):.2f} ms "
              f"(runs: {', '.join(f'{x:.2f}' for x in p95s)}); target <= 20 ms")
        print(f"baseline (LIKE scan over the JSON docs, no index): p95 median "
              f"{statistics.median(baselines):.2f} ms; ratio {statistics.median(baselines) / statistics.median(p95s):.1f}x")
        app.close()
        if args.json:
            args.json.write_text(json.dumps({
                "assets": args.assets, "events": events, "runs": args.runs,
                "search_p95_ms": round(statistics.median(p95s), 3),
                "baseline_like_scan_p95_ms": round(statistics.median(baselines), 3),
                "rebuild_seconds": round(statistics.median(rebuilds), 3)}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
