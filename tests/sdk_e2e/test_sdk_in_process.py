"""Ring 2: the SDK against the real server in process (``create_app(build_in_memory(...))``),
sync through Starlette's TestClient and async through ``httpx.ASGITransport``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

import databank
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.marketplace import ADMIN, PASSWORD, Clock, Market, member_with_organisation, set_up_market
from support.sdk_server import CountingASGITransport, StarletteTransport, publish_rows

BASE = "http://testserver"
SMALL_QUOTA = 3


@dataclass
class World:
    market: Market
    key: str
    small_asset: str
    member_email: str
    sync_transport: StarletteTransport
    async_transport: CountingASGITransport
    bank: object = None
    member: object = None
    organisation: str | None = None

    def client(self, key: str | None = None, *, anonymous: bool = False,
               **options) -> databank.Client:
        return databank.Client(None if anonymous else key or self.key, base_url=BASE,
                               transport=self.sync_transport, **options)

    def async_client(self, key: str | None = None, **options) -> databank.AsyncClient:
        return databank.AsyncClient(key or self.key, base_url=BASE,
                                    transport=self.async_transport, **options)


@pytest.fixture
def world() -> Iterator[World]:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    clock = Clock()  # Monday 2 March 2026, China time: the quota resets on 1 April
    bank.market.clock = bank.row_access.clock = clock
    market = set_up_market(bank)
    small = publish_rows(bank, market.publisher, "公交站点（小额度）", 5)
    small_plan = bank.licensing.define_plan(
        asset_id=small, name="体验版", licence_template_id=market.templates["open"], price={},
        quotas={"rows_per_month": SMALL_QUOTA}, overage="block", field_tier="masked", by=ADMIN)
    email = "li@startup.example"
    member, organisation = member_with_organisation(bank, email=email)
    for plan in (market.plans["unconditional"], str(small_plan.id)):
        bank.subscriptions.subscribe(organisation, plan, accepted_terms_version=1, by=member)
    _, key = bank.api_keys.create_api_key(organisation, name="sdk",
                                             scopes=["rows:read", "usage:read", "catalogue:read"],
                                             by=member)
    bank.entitlements_follower.catch_up()
    bank.catalogue_follower.catch_up()
    app = create_app(bank)
    with TestClient(app) as http:
        yield World(market, key, small, email, StarletteTransport(http), CountingASGITransport(app),
                    bank, member, organisation)


def test_a_developer_searches_the_catalogue_and_reads_an_open_dataset_into_a_list(world) -> None:
    with world.client() as client:
        found = {a.name: a for a in client.catalogue.search("公交", category="transport")}
        assert {"公交站点", "公交刷卡记录", "公交站点（小额度）"} <= set(found)
        stops = found["公交站点"]
        assert (stops.department, stops.open_type, stops.row_count) == ("六安市交通运输局", "UNCONDITIONAL", 1)
        rows = client.assets.rows(stops.id)
        assert list(rows) == [{"站点编号": "LA0001", "站点名称": "政务中心", "经度": "116.5078",
                               "纬度": "31.7529"}]
        assert rows.last_page.quota.rows_remaining == 10_000 - 1


def test_a_small_quota_ends_in_quota_exceeded_with_the_reset_time_and_no_storm(world) -> None:
    with world.client(max_retries=3) as client:
        rows = client.assets.rows(world.small_asset, page_size=2)
        served = []
        with pytest.raises(databank.QuotaExceededError) as raised:
            for row in rows:
                served.append(row)
    assert len(served) == SMALL_QUOTA  # the page at the edge is cut short: the quota is met exactly
    assert raised.value.reset_at.isoformat() == "2026-04-01T00:00:00+08:00"
    assert raised.value.retry_after > 60 * 60 * 24 * 25 and raised.value.status_code == 429
    assert len(world.sync_transport.requests) == 3  # two pages, one refusal, no retries


def test_a_malformed_where_is_a_value_error_naming_the_column(world) -> None:
    with world.client() as client, pytest.raises(ValueError, match="血型"):
        list(client.assets.rows(world.market.assets["unconditional"], where={"血型": "A"}))


def test_a_wrong_key_is_an_authentication_error_after_one_request(world) -> None:
    with world.client("dbk_" + "A" * 40) as client, pytest.raises(databank.AuthenticationError) as raised:
        client.assets.rows_page(world.market.assets["unconditional"])
    assert raised.value.reason == "unknown_key" and len(world.sync_transport.requests) == 1


def test_an_asset_without_a_subscription_is_permission_denied(world) -> None:
    with world.client() as client, pytest.raises(databank.PermissionDeniedError, match="subscribe"):
        client.assets.rows_page(world.market.assets["conditional"])


def test_usage_shows_what_was_read_and_when_it_resets(world) -> None:
    with world.client() as client:
        list(client.assets.rows(world.small_asset, limit=2))
        usage = client.usage.current()
    small = next(s for s in usage if s.asset_id == world.small_asset)
    assert (small.rows_used, small.rows_remaining) == (2, SMALL_QUOTA - 2)
    assert small.reset_at.isoformat() == "2026-04-01T00:00:00+08:00"
    assert "1 rows left" in str(usage)


def test_a_member_logs_in_and_manages_keys_subscriptions_and_applications(world) -> None:
    with world.client(anonymous=True) as client:
        client.login(world.member_email, PASSWORD)
        created = client.api_keys.create("nightly", scopes=["rows:read"])
        assert created.plaintext.startswith("dbk_") and created.api_key.name == "nightly"
        assert "nightly" in {k.name for k in client.api_keys.list()}
        assert client.api_keys.revoke(created.api_key.id).revoked
        subscribed = {s.asset_id: s for s in client.subscriptions.list()}
        assert subscribed[world.small_asset].plan.quotas.rows_per_month == SMALL_QUOTA
        application = client.applications.submit(
            world.market.assets["conditional"], purpose="客流研究", scenario="线路优化",
            security_commitment="仅限内部使用，期满删除")
        assert application.status.lower() == "submitted" and application.deadline is not None
        assert [a.id for a in client.applications.list()] == [application.id]
        (plan,) = client.assets.plans(world.market.assets["conditional"])
        with pytest.raises(databank.MutationError) as refused:
            client.subscriptions.subscribe(plan.id, accepted_terms_version=1)
        assert refused.value.errors
    with world.client(created.plaintext) as revoked, pytest.raises(databank.AuthenticationError):
        revoked.assets.rows_page(world.market.assets["unconditional"])


def test_an_asset_is_looked_up_with_its_columns_and_a_missing_one_is_not_found(world) -> None:
    with world.client() as client:
        asset = client.catalogue.get(world.market.assets["unconditional"])
        assert asset.name == "公交站点" and asset.columns
        with pytest.raises(databank.NotFoundError):
            client.catalogue.get("00000000-0000-0000-0000-000000000000")


def test_the_async_client_gives_the_same_answers_as_the_sync_one(world) -> None:
    async def pull() -> tuple[list[str], list[dict]]:
        async with world.async_client() as client:
            names = [a.name async for a in client.catalogue.search("公交")]
            rows = await client.assets.rows(world.market.assets["unconditional"]).to_list()
            return names, rows

    async_names, async_rows = asyncio.run(pull())
    with world.client() as client:
        assert [a.name for a in client.catalogue.search("公交")] == async_names
        assert list(client.assets.rows(world.market.assets["unconditional"])) == async_rows


def test_the_async_client_hits_the_quota_the_same_way(world) -> None:
    async def pull() -> list[dict]:
        served: list[dict] = []
        async with world.async_client() as client:
            async for row in client.assets.rows(world.small_asset, page_size=2):
                served.append(row)
        return served

    with pytest.raises(databank.QuotaExceededError) as raised:
        asyncio.run(pull())
    assert raised.value.reset_at.day == 1 and len(world.async_transport.requests) == 3


# ---- exports (issue 5): the SDK's export against the real server in process -------------------

BIG_ROWS = 12_000  # three blocks of the server's 5,000


@pytest.fixture
def big_asset(world) -> str:
    """An open asset of BIG_ROWS bus stops, subscribed under a plan of a million rows a month."""
    bank = world.bank
    asset = publish_rows(bank, world.market.publisher, "公交站点（全量）", BIG_ROWS)
    plan = bank.licensing.define_plan(
        asset_id=asset, name="全量版", licence_template_id=world.market.templates["open"], price={},
        quotas={"rows_per_month": 1_000_000}, overage="block", field_tier="masked", by=ADMIN)
    bank.subscriptions.subscribe(world.organisation, str(plan.id), accepted_terms_version=1,
                               by=world.member)
    bank.entitlements_follower.catch_up()
    bank.catalogue_follower.catch_up()
    return asset

def _frame_rows(frame) -> list[dict]:
    """A DataFrame's rows as dicts of text (None for null), to compare with ``rows``."""
    import math

    def text(value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return str(value)

    return [{k: text(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _as_text(rows: list[dict]) -> list[dict]:
    return [{k: (None if v is None else str(v)) for k, v in r.items()} for r in rows]


@pytest.mark.parametrize("format", ["csv", "ndjson", "parquet"])
def test_an_open_dataset_of_several_blocks_exports_into_pandas_equal_to_its_rows(world, big_asset, format) -> None:
    import pandas
    asset = big_asset
    with world.client() as client:
        rows = list(client.assets.rows(asset))
        export = client.assets.export(asset, format=format)
        frame = export.to_pandas()
    assert isinstance(frame, pandas.DataFrame) and len(rows) == BIG_ROWS
    assert list(frame.columns) == list(rows[0]) == export.columns
    assert _frame_rows(frame) == _as_text(rows)
    assert export.total_rows == BIG_ROWS and export.state.resumes == 0


def test_an_export_iterates_rows_equal_to_the_rows_pages_and_saves_the_same_file_twice(world, big_asset, tmp_path) -> None:
    with world.client() as client:
        export = client.assets.export(big_asset, format="ndjson")
        assert list(export.iter_rows()) == list(client.assets.rows(big_asset))
        first, second = export.save(tmp_path / "a.ndjson"), export.save(tmp_path / "b.ndjson")
    assert first.read_bytes() == second.read_bytes() and first.read_bytes().count(b"\n") == BIG_ROWS


def test_an_export_past_the_quota_gives_the_granted_rows_then_quota_exceeded(world) -> None:
    received = []
    with world.client() as client, pytest.raises(databank.QuotaExceededError) as raised:
        for row in client.assets.export(world.small_asset, format="csv").iter_rows():
            received.append(row)
    assert len(received) == SMALL_QUOTA  # the stream stops at the quota's edge; the resume is refused
    assert raised.value.reset_at.isoformat() == "2026-04-01T00:00:00+08:00"


def test_an_export_with_a_malformed_where_is_a_value_error_before_any_download(world, big_asset) -> None:
    with world.client() as client, pytest.raises(ValueError, match="血型"):
        client.assets.export(big_asset, where={"血型": "A"})
    assert not any("/exports/" in str(r.url) for r in world.sync_transport.requests)


def test_the_async_export_gives_the_same_rows_as_the_sync_one(world, big_asset) -> None:
    async def pull() -> list[dict]:
        async with world.async_client() as client:
            export = await client.assets.export(big_asset, format="csv")
            return [row async for row in export.iter_rows()]

    with world.client() as client:
        expected = list(client.assets.export(big_asset, format="csv").iter_rows())
    assert asyncio.run(pull()) == expected and len(expected) == BIG_ROWS
