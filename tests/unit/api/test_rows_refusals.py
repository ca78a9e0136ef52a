"""What the data access path refuses, and how it says so (issue 3, bad input)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.api import GraphQLTestClient, operation
from support.marketplace import Clock, Market, member_with_organisation, set_up_market


@pytest.fixture
def world() -> Iterator[tuple[TestClient, Market, Clock, dict]]:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    clock = Clock()
    bank.market.clock = bank.row_access.clock = clock
    market = set_up_market(bank)
    keys = {}
    for email, n, open_type in (("a@startup.example", 21, "unconditional"), ("b@startup.example", 22, "conditional")):
        member, organisation = member_with_organisation(bank, email=email, n=n)
        if open_type == "unconditional":
            bank.subscriptions.subscribe(organisation, market.plans[open_type], accepted_terms_version=1, by=member)
        keys[email] = bank.api_keys.create_api_key(organisation, name="k", scopes=["rows:read"], by=member)[1]
        keys[email + "/no-scope"] = bank.api_keys.create_api_key(
            organisation, name="catalogue only", scopes=["catalogue:read"], by=member)[1]
        keys[email + "/expiring"] = bank.api_keys.create_api_key(
            organisation, name="expiring", scopes=["rows:read"], expires_at=clock.now + timedelta(days=1),
            by=member)[1]
    bank.entitlements_follower.catch_up()
    with TestClient(create_app(bank)) as http:
        yield http, market, clock, keys


def _rows(http: TestClient, key: str | None, asset_id: str, **variables: object):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return http.post("/graphql", json={"query": operation("Rows"),
                                       "variables": {"assetId": asset_id, **variables}}, headers=headers)


def _refusal(response) -> tuple[str, str]:
    error = response.json()["errors"][0]
    return error["extensions"]["code"], error["message"]


def test_a_subscribed_key_reads_rows_with_the_quota_beside_them(world) -> None:
    http, market, _, keys = world
    response = _rows(http, keys["a@startup.example"], market.assets["unconditional"])
    body = response.json()
    assert response.status_code == 200 and body["data"]["rows"]["rows"][0]["站点编号"] == "LA0001"
    assert body["extensions"]["quota"]["rowsRemaining"] == 10_000 - 1


@pytest.mark.parametrize("key, reason", [
    ("dbk_" + "A" * 40, "unknown"), ("dbk_short", "malformed"), ("dbk_" + "!" * 40, "malformed")])
def test_unknown_and_malformed_keys_are_unauthenticated(world, key: str, reason: str) -> None:
    http, market, _, _ = world
    response = _rows(http, key, market.assets["unconditional"])
    assert response.status_code == 401
    code, message = _refusal(response)
    assert code == "UNAUTHENTICATED" and reason in message


def test_an_expired_key_is_refused_once_its_time_has_passed(world) -> None:
    http, market, clock, keys = world
    key = keys["a@startup.example/expiring"]
    assert _rows(http, key, market.assets["unconditional"]).status_code == 200
    clock.now += timedelta(days=2)
    response = _rows(http, key, market.assets["unconditional"])
    assert response.status_code == 401 and "expired" in _refusal(response)[1]


def test_a_key_without_the_rows_scope_is_forbidden(world) -> None:
    http, market, _, keys = world
    code, message = _refusal(_rows(http, keys["a@startup.example/no-scope"], market.assets["unconditional"]))
    assert code == "FORBIDDEN" and "rows:read" in message


def test_organisation_bs_key_gets_nothing_of_an_asset_only_organisation_a_may_read(world) -> None:
    http, market, _, keys = world
    # The conditional asset: organisation B has no subscription (no approved application).
    code, message = _refusal(_rows(http, keys["b@startup.example"], market.assets["conditional"]))
    assert code == "FORBIDDEN" and "subscribe" in message


@pytest.mark.parametrize("variables, words", [
    ({"where": {"血型": "A"}}, "no such column"),
    ({"where": {"经度": {"gte": "东经"}}}, "经度"),
    ({"where": {"经度": {"near": 1}}}, "not an operator"),
    ({"where": ["经度"]}, "where must be an object"),
    ({"orderBy": "血型"}, "no such column"),
    ({"where": {"站点名称": "x' OR '1'='1"}}, None),  # a value, never SQL: simply no rows
])
def test_bad_filters_are_bad_user_input_never_sql_errors(world, variables: dict, words: str | None) -> None:
    http, market, _, keys = world
    response = _rows(http, keys["a@startup.example"], market.assets["unconditional"], **variables)
    body = response.json()
    if words is None:
        assert body["data"]["rows"]["rows"] == []
        return
    code, message = _refusal(response)
    assert code == "BAD_USER_INPUT" and words in message
    assert "sqlite" not in message.lower() and "syntax" not in message.lower()


def test_a_page_over_1000_rows_is_refused_before_it_runs(world) -> None:
    http, market, _, keys = world
    response = _rows(http, keys["a@startup.example"], market.assets["unconditional"], first=1001)
    assert response.status_code == 400
    assert "1000" in response.json()["errors"][0]["message"]


def test_a_refused_query_uses_no_quota(world) -> None:
    http, market, _, keys = world
    _rows(http, keys["a@startup.example"], market.assets["unconditional"], where={"经度": {"gte": "东经"}})
    body = _rows(http, keys["a@startup.example"], market.assets["unconditional"]).json()
    assert body["extensions"]["quota"]["rowsUsed"] == 1
