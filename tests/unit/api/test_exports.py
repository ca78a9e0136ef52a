"""Streaming exports (issue 5): a signed link from ``requestExport``, then ``GET /exports/<token>``
streaming CSV, NDJSON or Parquet behind the same entitlement, masking, quota and metering as
``rows``; resumable with ``?after_row=N``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import orjson
import pytest
from starlette.testclient import TestClient

from domain.metering import period_of
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.api import operation
from support.catalogue import sample_metadata
from support.marketplace import ADMIN, REVIEWER, Clock, member_with_organisation, set_up_market

ROWS = 2_345
QUOTA = 100_000
COUNTIES = ("金安区", "裕安区", "霍山县", "舒城县")


def _people_csv(n: int) -> bytes:
    lines = ["编号,姓名,电话,区县,金额,人数,在营"]
    for i in range(1, n + 1):
        amount = "" if i % 97 == 0 else f"{i * 3 % 1000}.{i % 100:02d}"
        lines.append(f"P{i:06d},{'张王李赵'[i % 4]}{'晓明华'[i % 3]}{'伟芳' [i % 2]},"
                     f"138{i:08d},{COUNTIES[i % 4]},{amount},{i % 17},{'true' if i % 3 else 'false'}")
    return ("\n".join(lines) + "\n").encode()


def _item(name: str, data_type: str, sensitivity: str = "none", key: bool = False) -> dict:
    return {"name": name, "data_type": data_type, "description": "", "sensitivity": sensitivity,
            "key": key}


@dataclass
class World:
    http: TestClient
    bank: object
    clock: Clock
    asset: str
    key: str
    subscription: str
    member: object
    keys: dict


def _publish_people(bank, publisher) -> str:
    catalogue = bank.catalogue
    metadata = sample_metadata(name="个体工商户经营者", information_items=[
        _item("编号", "string", key=True), _item("姓名", "string", "name"),
        _item("电话", "string", "phone"), _item("区县", "string"), _item("金额", "decimal"),
        _item("人数", "integer"), _item("在营", "boolean")])
    asset = catalogue.register_asset(department_id=publisher.department_id, metadata=metadata,
                                     by=publisher)
    asset, number = catalogue.upload_version(str(asset.id), io.BytesIO(_people_csv(ROWS)),
                                             source_format="csv", by=publisher)
    catalogue.submit_for_review(str(asset.id), number, by=publisher)
    catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    catalogue.publish(str(asset.id), number, by=publisher)
    return str(asset.id)


def _world(quota: int = QUOTA) -> Iterator[World]:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    clock = Clock()
    bank.market.clock = bank.row_access.clock = clock
    bank.exports.block_rows = 500  # several blocks, and partial grants inside them
    market = set_up_market(bank)
    asset = _publish_people(bank, market.publisher)
    plan = bank.licensing.define_plan(
        asset_id=asset, name="免费版", licence_template_id=market.templates["open"], price={},
        quotas={"rows_per_month": quota}, overage="block", field_tier="masked", by=ADMIN)
    member, organisation = member_with_organisation(bank, email="a@startup.example", n=31)
    subscription = bank.subscriptions.subscribe(organisation, str(plan.id), accepted_terms_version=1,
                                              by=member)
    keys = {scope: bank.api_keys.create_api_key(organisation, name=scope, scopes=[scope], by=member)[1]
            for scope in ("rows:read", "exports:read", "catalogue:read")}
    bank.entitlements_follower.catch_up()
    bank.catalogue_follower.catch_up()
    with TestClient(create_app(bank)) as http:
        yield World(http, bank, clock, asset, keys["rows:read"], str(subscription.id), member, keys)


@pytest.fixture
def world() -> Iterator[World]:
    yield from _world()


@pytest.fixture
def small_quota() -> Iterator[World]:
    yield from _world(quota=1_234)


def _request(world: World, key: str | None = None, **variables: object):
    key = world.key if key is None else key
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return world.http.post("/graphql", json={"query": operation("RequestExport"),
                                             "variables": {"assetId": world.asset, **variables}},
                           headers=headers)


def _link(world: World, **variables: object) -> dict:
    body = _request(world, **variables).json()
    assert "errors" not in body, body
    payload = body["data"]["requestExport"]
    assert payload["errors"] == [], payload
    return payload["export"]


def _all_rows(world: World, **variables: object) -> list[dict]:
    """Every row through the GraphQL ``rows`` pages (the reference)."""
    rows, after = [], None
    while True:
        response = world.http.post("/graphql", json={"query": operation("Rows"), "variables": {
            "assetId": world.asset, "first": 1000, "after": after, **variables}},
            headers={"Authorization": f"Bearer {world.key}"})
        page = response.json()["data"]["rows"]
        rows.extend(page["rows"])
        if not page["pageInfo"]["hasNextPage"]:
            return rows
        after = page["pageInfo"]["endCursor"]


def _usage(world: World) -> int:
    return world.bank.ledger.usage(world.subscription, period_of(world.clock.now))["rows"]


def _csv_rows(body: bytes) -> tuple[list[str], list[list[str]]]:
    header, *records = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    return header, records


def _as_csv(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ndjson(body: bytes) -> list[dict]:
    return [orjson.loads(line) for line in body.splitlines()]


# ---- round trips -------------------------------------------------------------------------------

def test_an_ndjson_export_holds_exactly_the_rows_the_rows_pages_give(world) -> None:
    expected = _all_rows(world)
    link = _link(world, format="NDJSON")
    response = world.http.get(link["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert _ndjson(response.content) == expected
    assert link["rowEstimate"] == ROWS == int(response.headers["X-Export-Total-Rows"])


def test_a_csv_export_is_utf8_with_a_header_and_the_same_values_as_the_rows_pages(world) -> None:
    expected = _all_rows(world)
    response = world.http.get(_link(world, format="CSV")["url"])
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert not response.content.startswith(b"\xef\xbb\xbf")  # no BOM
    header, records = _csv_rows(response.content)
    assert header == list(expected[0])
    assert records == [[_as_csv(row[c]) for c in header] for row in expected]


def test_a_parquet_export_reads_back_as_the_rows_pages_in_one_row_group_per_block(world) -> None:
    import pyarrow.parquet as pq

    expected = _all_rows(world)
    response = world.http.get(_link(world, format="PARQUET")["url"])
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    parquet = pq.ParquetFile(io.BytesIO(response.content))
    assert parquet.num_row_groups == -(-ROWS // 500)
    assert parquet.read().to_pylist() == expected


def test_the_tier_masks_personal_columns_in_exports_as_in_rows(world) -> None:
    rows = _ndjson(world.http.get(_link(world, format="NDJSON")["url"]).content)
    assert rows[0]["姓名"].endswith("**") and len(rows[0]["姓名"]) == 3
    assert rows[0]["电话"] == "138****0001"
    assert rows[0]["区县"] == COUNTIES[1]  # not personal: as stored


def test_the_where_filter_and_the_columns_apply_to_the_export(world) -> None:
    where = {"区县": "霍山县", "人数": {"gte": 5}}
    expected = [{"电话": r["电话"], "编号": r["编号"]} for r in _all_rows(world, where=where)]
    link = _link(world, format="NDJSON", where=where, columns=["电话", "编号"])
    assert link["rowEstimate"] == len(expected) > 0
    assert _ndjson(world.http.get(link["url"]).content) == expected


def test_a_key_with_only_the_exports_scope_may_export(world) -> None:
    body = _request(world, key=world.keys["exports:read"], format="CSV").json()
    assert body["data"]["requestExport"]["errors"] == []


# ---- metering and the quota ----------------------------------------------------------------------

def test_requesting_a_link_uses_no_quota_and_downloading_meters_every_row_once(world) -> None:
    link = _link(world, format="CSV")
    assert _usage(world) == 0
    response = world.http.get(link["url"])
    assert len(_csv_rows(response.content)[1]) == ROWS
    assert _usage(world) == ROWS
    assert response.headers["X-RateLimit-Remaining"] == str(QUOTA - 500)  # after the first block


def test_the_quota_edge_truncates_the_export_exactly_and_meters_exactly(small_quota) -> None:
    world = small_quota
    link = _link(world, format="NDJSON")
    response = world.http.get(link["url"])
    assert response.status_code == 200
    rows = _ndjson(response.content)
    assert len(rows) == 1_234 == _usage(world)
    resumed = world.http.get(link["url"], params={"after_row": len(rows)})
    assert resumed.status_code == 429
    assert resumed.json()["errors"][0]["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert int(resumed.headers["Retry-After"]) > 0
    assert _usage(world) == 1_234


def test_an_exhausted_quota_refuses_before_the_first_byte(small_quota) -> None:
    world = small_quota
    used = 0
    for _ in range(3):  # the rows pages use the whole quota: 1,000 then 234 rows
        response = world.http.post("/graphql", json={"query": operation("Rows"), "variables": {
            "assetId": world.asset, "first": 1000, "after": None}},
            headers={"Authorization": f"Bearer {world.key}"})
        used += len((response.json()["data"] or {"rows": {"rows": []}})["rows"]["rows"])
    assert used == 1_234
    response = world.http.get(_link(world, format="CSV")["url"])
    assert response.status_code == 429
    assert response.json()["errors"][0]["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert "Retry-After" in response.headers and _usage(world) == 1_234


# ---- resuming ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cut", [1, 777, 30_000, 91_234])
def test_an_interrupted_ndjson_download_resumed_after_its_rows_yields_every_row_once(world, cut: int) -> None:
    link = _link(world, format="NDJSON")
    full = world.http.get(link["url"]).content
    received = full[:cut]  # the connection dropped here, maybe in the middle of a line
    complete = received[: received.rfind(b"\n") + 1]
    rows = _ndjson(complete)
    rest = world.http.get(link["url"], params={"after_row": len(rows)})
    assert rest.status_code == 200 and rest.headers["X-Export-After-Row"] == str(len(rows))
    assert rows + _ndjson(rest.content) == _ndjson(full)


def test_an_interrupted_filtered_csv_download_resumes_without_duplicates_or_gaps(world) -> None:
    link = _link(world, format="CSV", where={"区县": {"in": ["金安区", "舒城县"]}})
    full = world.http.get(link["url"]).content
    received = full[:20_000]
    header, first = _csv_rows(received[: received.rfind(b"\n") + 1])
    rest = world.http.get(link["url"], params={"after_row": len(first)})
    rest_header, remaining = _csv_rows(rest.content)
    assert rest_header == header
    assert first + remaining == _csv_rows(full)[1]
    assert len({r[0] for r in first + remaining}) == link["rowEstimate"]


def test_resuming_past_the_end_is_bad_input(world) -> None:
    link = _link(world, format="CSV")
    assert world.http.get(link["url"], params={"after_row": ROWS}).status_code == 200
    for bad in (str(ROWS + 1), "-1", "x"):
        response = world.http.get(link["url"], params={"after_row": bad})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# ---- the link ------------------------------------------------------------------------------------

def test_an_expired_link_is_refused_with_the_reason(world) -> None:
    link = _link(world, format="CSV")
    world.clock.now += timedelta(minutes=16)
    response = world.http.get(link["url"])
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {
        "code": "UNAUTHENTICATED", "reason": "expired", "requestId": response.headers["X-Request-Id"]}
    assert _usage(world) == 0


def test_a_tampered_link_is_refused(world) -> None:
    link = _link(world, format="CSV", where={"区县": "霍山县"})
    header, payload, signature = link["path"].removeprefix("/exports/").split(".")
    import base64

    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["whr"] = None  # everything, not one county
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    response = world.http.get(f"/exports/{header}.{forged}.{signature}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "bad_signature"
    assert world.http.get("/exports/not-a-token").status_code == 401


def test_a_login_token_is_not_an_export_link(world) -> None:
    token, _ = world.bank.tokens.issue(subject="u1", name="n", role="member")
    response = world.http.get(f"/exports/{token}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] in ("wrong_audience", "wrong_issuer",
                                                                    "missing_claim")


def test_a_subscription_revoked_after_the_link_was_issued_is_refused_at_download(world) -> None:
    link = _link(world, format="CSV")
    world.bank.subscriptions.revoke_subscription(world.subscription, reason="违规转售", by=ADMIN)
    world.bank.entitlements_follower.catch_up()
    response = world.http.get(link["url"])
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "revoked" in response.json()["errors"][0]["message"]


# ---- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("variables, code, field", [
    ({"format": "CSV", "columns": ["血型"]}, "UNKNOWN_COLUMN", "columns"),
    ({"format": "CSV", "columns": []}, "UNKNOWN_COLUMN", "columns"),
    ({"format": "CSV", "where": {"血型": "A"}}, "INVALID_FILTER", "where"),
    ({"format": "CSV", "where": {"人数": {"near": 1}}}, "INVALID_FILTER", "where"),
    ({"format": "NDJSON", "assetId": "00000000-0000-0000-0000-000000000000"}, "NOT_FOUND", "assetId"),
])
def test_bad_export_requests_are_payload_errors(world, variables: dict, code: str, field: str) -> None:
    payload = _request(world, **variables).json()["data"]["requestExport"]
    assert payload["export"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]


def test_an_unknown_format_is_refused_by_the_schema(world) -> None:
    body = _request(world, format="XLSX").json()
    assert "data" not in body or body["data"] is None
    assert "ExportFormat" in body["errors"][0]["message"]


def test_parquet_is_refused_with_a_payload_error_when_pyarrow_is_missing(world, monkeypatch) -> None:
    monkeypatch.setattr("marketplace.services.exports.parquet_available", lambda: False)
    payload = _request(world, format="PARQUET").json()["data"]["requestExport"]
    assert payload["errors"][0]["code"] == "FORMAT_UNAVAILABLE" and "pyarrow" in payload["errors"][0]["message"]


def test_a_key_without_a_rows_or_exports_scope_is_forbidden(world) -> None:
    payload = _request(world, key=world.keys["catalogue:read"], format="CSV").json()["data"]["requestExport"]
    assert payload["errors"][0]["code"] == "FORBIDDEN" and "exports:read" in payload["errors"][0]["message"]


def test_anonymous_callers_cannot_export(world) -> None:
    body = _request(world, key="", format="CSV").json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
