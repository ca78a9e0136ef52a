"""The masking property on what actually leaves the bank: the demo's population extract read
through GraphQL ``rows`` (anonymously and with a masked-tier key), through CSV, NDJSON and
Parquet exports, and through the SDK's rows and export, in process. Every masked identifier keeps at least 1,000 candidates given its whole row — so both
channels use the row-level masker (tests/support/masking_oracle.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import orjson
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

import databank

from domain.metadata import Sensitivity
from marketplace.bootstrap import build_in_memory
from marketplace.demo.assets import asset as demo_asset
from marketplace.demo.rows import population_extract
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.api import operation
from support.marketplace import ADMIN, REVIEWER, Clock, member_with_organisation, set_up_market
from support.masking_oracle import ENOUGH, check_row
from support.sdk_server import StarletteTransport

ROWS = 150
KINDS = {"公民身份号码": Sensitivity.ID_NUMBER, "姓名": Sensitivity.NAME,
         "出生日期": Sensitivity.BIRTH_DATE, "户籍地址": Sensitivity.ADDRESS}
IDENTIFIERS = ("公民身份号码", "姓名")


@pytest.fixture(scope="module")
def world() -> Iterator[dict]:
    """The population extract with the demo's metadata, opened unconditionally (so anonymous
    callers and a free masked plan reach it: masking does not depend on the open type)."""
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    clock = Clock()
    bank.market.clock = bank.row_access.clock = clock
    market = set_up_market(bank)
    spec = demo_asset("population_extract")
    metadata = {k: v for k, v in spec.items() if k not in ("key", "department", "rows", "row_count")}
    metadata["opening"] = {"type": "unconditional", "condition": "", "legal_basis": ""}
    buffer = io.StringIO()
    csv.writer(buffer).writerows(population_extract(ROWS, seed=3))
    catalogue, publisher = bank.catalogue, market.publisher
    asset = catalogue.register_asset(department_id=publisher.department_id, metadata=metadata,
                                     by=publisher)
    asset, number = catalogue.upload_version(str(asset.id), io.BytesIO(buffer.getvalue().encode()),
                                             source_format="csv", by=publisher)
    catalogue.submit_for_review(str(asset.id), number, by=publisher)
    catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    catalogue.publish(str(asset.id), number, by=publisher)
    plan = bank.licensing.define_plan(
        asset_id=str(asset.id), name="免费版", licence_template_id=market.templates["open"], price={},
        quotas={"rows_per_month": 100_000}, overage="block", field_tier="masked", by=ADMIN)
    member, organisation = member_with_organisation(bank, email="m@startup.example", n=41)
    bank.subscriptions.subscribe(organisation, str(plan.id), accepted_terms_version=1, by=member)
    _, key = bank.api_keys.create_api_key(organisation, name="k", scopes=["rows:read", "exports:read"],
                                             by=member)
    bank.entitlements_follower.catch_up()
    bank.catalogue_follower.catch_up()
    table = bank.catalogue_view.get(str(asset.id))["versions"][0]["table"]
    stored = bank.datastore.query(table, limit=ROWS).rows
    with TestClient(create_app(bank)) as http:
        yield {"http": http, "asset": str(asset.id), "key": key, "stored": stored}


def _rows(world: dict, key: str | None) -> list[dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = world["http"].post("/graphql", json={"query": operation("Rows"), "variables": {
        "assetId": world["asset"], "first": ROWS}}, headers=headers).json()
    assert "errors" not in body, body
    return body["data"]["rows"]["rows"]


def _export(world: dict, format: str) -> bytes:
    body = world["http"].post("/graphql", json={"query": operation("RequestExport"), "variables": {
        "assetId": world["asset"], "format": format}},
        headers={"Authorization": f"Bearer {world['key']}"}).json()
    payload = body["data"]["requestExport"]
    assert payload["errors"] == [], payload
    response = world["http"].get(payload["export"]["url"])
    assert response.status_code == 200
    return response.content


def _csv_export(world: dict) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_export(world, "CSV").decode("utf-8"))))


def _ndjson_export(world: dict) -> list[dict]:
    return [orjson.loads(line) for line in _export(world, "NDJSON").splitlines()]


def _parquet_export(world: dict) -> list[dict]:
    return pq.read_table(io.BytesIO(_export(world, "PARQUET"))).to_pylist()


def _sdk(world: dict) -> databank.Client:
    return databank.Client(world["key"], base_url="http://testserver",
                           transport=StarletteTransport(world["http"]))


def _sdk_rows(world: dict) -> list[dict]:
    with _sdk(world) as client:
        return list(client.assets.rows(world["asset"], limit=ROWS))


def _sdk_export(world: dict) -> list[dict]:
    with _sdk(world) as client:
        return list(client.assets.export(world["asset"], format="ndjson").iter_rows())


CHANNELS = {"rows, anonymous": lambda world: _rows(world, None),
            "rows, masked tier": lambda world: _rows(world, world["key"]),
            "CSV export": _csv_export, "NDJSON export": _ndjson_export,
            "Parquet export": _parquet_export, "SDK rows": _sdk_rows, "SDK export": _sdk_export}


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_what_leaves_through_each_channel_keeps_a_thousand_candidates(world, channel) -> None:
    shown = CHANNELS[channel](world)
    assert len(shown) == ROWS
    for original, row in zip(world["stored"], shown):
        counts = check_row(original, row, KINDS, IDENTIFIERS)
        assert set(counts) == set(IDENTIFIERS) and min(counts.values()) >= ENOUGH, (row, counts)
        assert row["出生日期"] == original["出生日期"][:4]
