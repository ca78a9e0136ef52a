"""Usage reports, API keys' last-used day and the escalation job, through /graphql in process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from domain.actors import Actor, Role
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.api import GraphQLTestClient
from support.waiting import wait_until
from support.marketplace import (ADMIN, PASSWORD, Clock, Market, credit_code,
                                 member_with_organisation, publish_asset, set_up_market)

DAY = "2026-03-02"  # MONDAY, the clocks' start


@pytest.fixture
def world() -> Iterator[tuple[GraphQLTestClient, Market, Clock]]:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    clock = Clock()
    bank.market.clock = bank.row_access.clock = bank.row_access.key_use.clock = clock
    market = set_up_market(bank)
    staff = bank.staff
    staff.open_account(username="admin", name="管理员", role=Role.ADMIN, password=PASSWORD, by=None)
    staff.open_account(username="pub-transport", name="交通局数据专员", role=Role.PUBLISHER,
                       password=PASSWORD, department_id=market.publisher.department_id, by=None)
    # A second department with one open asset and a free plan.
    department = bank.catalogue.register_department(code=credit_code(2, "11341500"),
                                                    name="六安市生态环境局", contact="", by=ADMIN)
    other = Actor("pub2", "环境局数据专员", Role.PUBLISHER, str(department.id))
    market.assets["air"] = publish_asset(bank, other, "unconditional", "空气质量")
    market.plans["air"] = str(bank.licensing.define_plan(
        asset_id=market.assets["air"], name="免费版", licence_template_id=market.templates["open"],
        price={}, quotas={"rows_per_month": 500}, overage="block", field_tier="masked",
        by=ADMIN).id)
    market.other_department = str(department.id)  # type: ignore[attr-defined]
    with TestClient(create_app(bank)) as http:
        api = GraphQLTestClient(http)
        api.bank = bank  # type: ignore[attr-defined]
        yield api, market, clock


def _member(api: GraphQLTestClient, email: str, n: int) -> str:
    api.token = api.data("SignUp", email=email, name="李明", password=PASSWORD)["signUp"]["token"]
    org = api.data("RegisterOrganisation", creditCode=credit_code(n), name=f"六安数智科技{n}")
    api.login(email)
    return org["registerOrganisation"]["organisation"]["id"]


def _subscribe_and_key(api: GraphQLTestClient, *plans: str) -> tuple[str, str]:
    for plan in plans:
        payload = api.data("Subscribe", planId=plan, acceptedTermsVersion=1)["subscribe"]
        assert payload["errors"] == [], payload
    created = api.data("CreateApiKey", name="etl", scopes=["rows:read", "usage:read"])["createApiKey"]
    return created["plaintext"], created["apiKey"]["id"]


def _read(api: GraphQLTestClient, key: str, asset_id: str, first: int = 10) -> dict:
    token, api.token = api.token, key
    try:
        return api.data("Rows", assetId=asset_id, first=first)["rows"]
    finally:
        api.token = token


# ---- usage --------------------------------------------------------------------------------

def test_a_member_sees_their_usage_after_reading_rows(world) -> None:
    api, market, _ = world
    _member(api, "li@startup.example", 7)
    key, _ = _subscribe_and_key(api, market.plans["unconditional"])
    assert len(_read(api, key, market.assets["unconditional"])["rows"]) == 1
    _read(api, key, market.assets["unconditional"])
    (usage,) = api.data("Usage")["usage"]
    assert usage["asset"]["name"] == "公交站点" and usage["plan"]["name"] == "免费版"
    assert (usage["period"], usage["rowsUsed"], usage["callsUsed"]) == ("2026-03", 2, 2)
    assert (usage["rowsQuota"], usage["rowsRemaining"], usage["callsQuota"]) == (10_000, 9_998, None)
    assert usage["bytesUsed"] >= 0 and usage["resetAt"] == "2026-04-01T00:00:00+08:00"
    # The same through the key itself (scope usage:read), and another period is empty.
    token, api.token = api.token, key
    assert api.data("Usage")["usage"][0]["rowsUsed"] == 2
    api.token = token
    (april,) = api.data("Usage", period="2026-04")["usage"]
    assert (april["rowsUsed"], april["rowsRemaining"]) == (0, 10_000)


def test_a_bad_period_is_bad_user_input(world) -> None:
    api, _, _ = world
    _member(api, "li@startup.example", 7)
    body = api.call("Usage", period="2026-13")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_usage_needs_a_login_and_a_key_needs_the_usage_scope(world) -> None:
    api, market, _ = world
    assert api.call("Usage")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    _member(api, "li@startup.example", 7)
    created = api.data("CreateApiKey", name="rows only", scopes=["rows:read"])["createApiKey"]
    api.token = created["plaintext"]
    assert api.call("Usage")["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_the_daily_report_shows_metered_usage_to_the_member_only(world) -> None:
    api, market, clock = world
    org = _member(api, "li@startup.example", 7)
    key, _ = _subscribe_and_key(api, market.plans["unconditional"])
    _read(api, key, market.assets["unconditional"])
    clock.now += timedelta(days=1)
    _read(api, key, market.assets["unconditional"])
    _read(api, key, market.assets["unconditional"])
    _bank(api).metering.feed_all(grace_seconds=0)
    report = api.data("UsageReport", fromDay=DAY, toDay="2026-03-31")["usageReport"]
    assert [(r["day"], r["rows"], r["calls"], r["asset"]["name"], r["organisationId"])
            for r in report] == [(DAY, 1, 1, "公交站点", org), ("2026-03-03", 2, 2, "公交站点", org)]
    # Another organisation's member sees none of it, even naming the organisation.
    _member(api, "wang@other.example", 8)
    assert api.data("UsageReport", fromDay=DAY, toDay="2026-03-31")["usageReport"] == []
    assert api.data("UsageReport", fromDay=DAY, toDay="2026-03-31",
                    organisationId=org)["usageReport"] == []
    assert api.data("Usage", organisationId=org)["usage"] == []
    # The administrator sees it, filtered by organisation.
    api.login("admin")
    assert len(api.data("UsageReport", fromDay=DAY, toDay="2026-03-31",
                        organisationId=org)["usageReport"]) == 2


def test_a_publisher_sees_only_their_departments_assets(world) -> None:
    api, market, _ = world
    _member(api, "li@startup.example", 7)
    key, _ = _subscribe_and_key(api, market.plans["unconditional"], market.plans["air"])
    _read(api, key, market.assets["unconditional"])
    _read(api, key, market.assets["air"])
    _read(api, None, market.assets["air"])  # anonymous: no credentials, per-IP allowance
    _bank(api).metering.feed_all(grace_seconds=0)

    api.login("pub-transport")
    mine = api.data("UsageReport", fromDay=DAY, toDay=DAY)["usageReport"]
    assert {r["asset"]["name"] for r in mine} == {"公交站点"}
    # Naming the other department changes nothing: the publisher's own is forced.
    forced = api.data("UsageReport", fromDay=DAY, toDay=DAY,
                      departmentId=market.other_department)["usageReport"]
    assert forced == mine
    by_asset = _query(api, BY_ASSET, fromDay=DAY, toDay=DAY)["data"]["usageByAsset"]
    assert [a["asset"]["name"] for a in by_asset] == ["公交站点"]
    refused = _query(api, BY_DEPARTMENT, fromDay=DAY, toDay=DAY)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    api.login("admin")
    everything = api.data("UsageReport", fromDay=DAY, toDay=DAY)["usageReport"]
    assert {r["asset"]["name"] for r in everything} == {"公交站点", "空气质量"}
    assert any(r["subject"].startswith("anon:") for r in everything)  # admins see the IP
    by_asset = _query(api, BY_ASSET, fromDay=DAY, toDay=DAY)["data"]["usageByAsset"]
    assert {(a["asset"]["name"], a["rows"], a["calls"], a["subjects"]) for a in by_asset} == {
        ("公交站点", 1, 1, 1), ("空气质量", 2, 2, 2)}
    by_department = _query(api, BY_DEPARTMENT, fromDay=DAY, toDay=DAY)["data"]["usageByDepartment"]
    assert {(d["department"]["name"], d["rows"], d["calls"], d["assets"]) for d in by_department} == {
        ("六安市交通运输局", 1, 1, 1), ("六安市生态环境局", 2, 2, 1)}


def test_the_other_publisher_sees_anonymous_use_without_the_ip(world) -> None:
    api, market, _ = world
    _read(api, None, market.assets["air"])
    _read(api, None, market.assets["air"])
    _bank(api).metering.feed_all(grace_seconds=0)
    _bank(api).staff.open_account(username="pub-env", name="环境局", role=Role.PUBLISHER,
                                  password=PASSWORD, department_id=market.other_department, by=None)
    api.login("pub-env")
    (row,) = api.data("UsageReport", fromDay=DAY, toDay=DAY)["usageReport"]
    assert (row["subject"], row["rows"], row["calls"]) == ("anonymous", 2, 2)


def test_a_day_range_is_checked(world) -> None:
    api, _, _ = world
    api.login("admin")
    backwards = api.call("UsageReport", fromDay="2026-03-02", toDay="2026-03-01")
    assert backwards["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_long = api.call("UsageReport", fromDay="2025-01-01", toDay="2026-03-01")
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


BY_ASSET = """query ($fromDay: Date!, $toDay: Date!) {
  usageByAsset(fromDay: $fromDay, toDay: $toDay) { assetId asset { name } departmentId rows calls bytes subjects } }"""
BY_DEPARTMENT = """query ($fromDay: Date!, $toDay: Date!) {
  usageByDepartment(fromDay: $fromDay, toDay: $toDay) { departmentId department { name } rows calls bytes assets } }"""


def _query(api: GraphQLTestClient, query: str, **variables: object) -> dict:
    return api.http.post("/graphql", json={"query": query, "variables": variables},
                         headers=api.headers()).json()


def _bank(api: GraphQLTestClient):
    return api.bank  # type: ignore[attr-defined]


# ---- API keys' last-used day --------------------------------------------------------------

def _key_events(api: GraphQLTestClient, key_id: str) -> list[str]:
    events = _bank(api).market.repository.event_store.get(UUID(key_id))
    return [type(e).__qualname__ for e in events]


def test_the_last_used_day_is_recorded_once_a_day_off_the_request(world) -> None:
    api, market, clock = world
    _member(api, "li@startup.example", 7)
    key, key_id = _subscribe_and_key(api, market.plans["unconditional"])
    (listed,) = api.data("ApiKeys")["apiKeys"]
    assert listed["lastUsedOn"] is None
    for _ in range(3):
        _read(api, key, market.assets["unconditional"])
    bank = _bank(api)
    assert bank.row_access.key_use.flush()
    bank.entitlements_follower.catch_up()
    assert api.data("ApiKeys")["apiKeys"][0]["lastUsedOn"] == DAY
    assert _key_events(api, key_id).count("ApiKey.Used") == 1  # three requests, one event
    clock.now += timedelta(days=1)
    _read(api, key, market.assets["unconditional"])
    assert bank.row_access.key_use.flush()
    bank.entitlements_follower.catch_up()
    assert api.data("ApiKeys")["apiKeys"][0]["lastUsedOn"] == "2026-03-03"
    assert _key_events(api, key_id).count("ApiKey.Used") == 2


# ---- escalation ---------------------------------------------------------------------------

def test_the_server_escalates_overdue_applications_by_itself() -> None:
    bank = build_in_memory(Settings(escalation_interval_seconds=0.05, projection_poll_seconds=60))
    clock = Clock()
    bank.market.clock = clock
    market = set_up_market(bank)
    member, org = member_with_organisation(bank)
    application = bank.access_applications.submit_application(
        org, market.assets["conditional"], purpose="交通规划研究", scenario="线路优化",
        security_commitment="不对外提供", by=member)
    bank.start()
    try:
        wait_until(lambda: bank.escalation.runs >= 2, what="two ticks before the deadline")
        doc = bank.entitlements_view.access_application(str(application.id))  # ... changed nothing
        assert doc["status"] == "submitted" and not doc["escalated"]
        clock.now += timedelta(days=8)  # past five working days

        def escalated() -> dict | None:
            doc = bank.entitlements_view.access_application(str(application.id))
            return doc if doc["escalated"] else None

        doc = wait_until(escalated, what="the overdue application to be escalated")
        # The job caught the read model up itself (the follower polls only every 60 s here).
        assert doc["escalated"] and doc["status"] == "escalated"
    finally:
        bank.close()
    assert bank.escalation.runs >= 3
