"""The masked tier's promise over every demo asset: each asset is registered with the demo's
metadata, a sample of its generated rows imported (so detection runs), reviewed and cleared as
the demo's reviewer does, and its rows masked by the RowMasker the access path builds, for the
masked tier and for the anonymous caller. For every masked identifier of every row, at least
1,000 values stay consistent with the row (tests/support/masking_oracle.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from domain.actors import ANONYMOUS, Actor, Role
from marketplace.bootstrap import DataBank, build_in_memory
from marketplace.demo.assets import ASSETS, CLEARANCES
from marketplace.demo.departments import DEPARTMENTS
from marketplace.demo.rows import ROW_GENERATORS
from marketplace.services.access import Caller
from support.masking_oracle import ENOUGH, check_row

SAMPLE = 200
REVIEWER = Actor("reviewer", "开放审查员", Role.REVIEWER)
ADMIN = Actor("admin", "管理员", Role.ADMIN)


def _csv(asset: dict) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(ROW_GENERATORS[asset["rows"]](SAMPLE, seed=7))
    return buffer.getvalue().encode()


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[DataBank, dict[str, str]]]:
    """The demo's assets as its seeding leaves them: published unless not open, cleared columns
    cleared."""
    bank = build_in_memory()
    catalogue, ids = bank.catalogue, {}
    departments = {d["key"]: str(catalogue.register_department(
        code=d["code"], name=d["name"], contact=d["contact"], by=ADMIN).id) for d in DEPARTMENTS}
    for spec in ASSETS:
        publisher = Actor(f"pub-{spec['department']}", "数据专员", Role.PUBLISHER,
                          departments[spec["department"]])
        metadata = {k: v for k, v in spec.items() if k not in ("key", "department", "rows", "row_count")}
        asset = catalogue.register_asset(department_id=publisher.department_id, metadata=metadata,
                                         by=publisher)
        asset, number = catalogue.upload_version(str(asset.id), io.BytesIO(_csv(spec)),
                                                 source_format="csv", by=publisher)
        catalogue.submit_for_review(str(asset.id), number, by=publisher)
        if spec["opening"]["type"] != "not_open":
            catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
            for column, reason in CLEARANCES.get(spec["key"], {}).items():
                catalogue.clear_personal_column(str(asset.id), column, reason=reason, by=REVIEWER)
            catalogue.publish(str(asset.id), number, by=publisher)
        ids[spec["key"]] = str(asset.id)
    bank.catalogue_follower.catch_up()
    try:
        yield bank, ids
    finally:
        bank.close()


def _maskers(bank: DataBank, asset_id: str) -> dict:
    """The masked tier's masker, built as ``plan_access`` builds it, and the anonymous caller's
    from ``plan_access`` itself where anonymous callers may read."""
    entry = bank.catalogue_view.get(asset_id)
    columns = tuple(c["name"] for c in entry["versions"][0]["columns"])
    maskers = {"masked tier": bank.row_access._masker(entry, 1, columns, ("masked", ()),
                                                      lambda column: "masked")}
    if entry["status"] == "published" and entry["metadata"]["opening"]["type"] == "unconditional":
        maskers["anonymous"] = bank.row_access.plan_access(Caller(ANONYMOUS, ip="198.51.100.7"),
                                                           asset_id).masker
    return maskers


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a["key"])
def test_every_masked_identifier_of_every_demo_row_keeps_a_thousand_candidates(demo, asset) -> None:
    bank, ids = demo
    entry = bank.catalogue_view.get(ids[asset["key"]])
    stored = bank.datastore.query(entry["versions"][0]["table"], limit=SAMPLE).rows
    assert len(stored) == SAMPLE
    for who, masker in _maskers(bank, ids[asset["key"]]).items():
        shown = masker.apply([dict(row) for row in stored])
        for original, row in zip(stored, shown):
            counts = check_row(original, row, masker.kinds, masker.masked)
            assert all(n >= ENOUGH for n in counts.values()), (who, row, counts)


def test_the_population_extract_shows_the_region_and_the_birth_year_only(demo) -> None:
    bank, ids = demo
    entry = bank.catalogue_view.get(ids["population_extract"])
    masker = _maskers(bank, ids["population_extract"])["masked tier"]
    (row,) = masker.apply(bank.datastore.query(entry["versions"][0]["table"], limit=1).rows)
    assert row["公民身份号码"].endswith("*" * 12) and row["出生日期"].isdigit()
    assert row["姓名"].endswith("**") and row["户籍地址"].endswith("****")


def test_columns_detected_but_not_declared_are_masked_until_cleared(demo) -> None:
    bank, ids = demo
    registry = _maskers(bank, ids["enterprise_registry"])["anonymous"]
    assert registry.kinds["住所"].value == "address" and "住所" in registry.masked  # not declared
    hospitals = _maskers(bank, ids["medical_institutions"])["anonymous"]
    assert "联系电话" not in hospitals.masked and "地址" not in hospitals.masked  # cleared
