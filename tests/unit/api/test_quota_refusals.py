"""What a client sees when the quota or the rate limit refuses a `rows` call over /graphql: the
error's code and extension fields, the HTTP status and Retry-After, and the whole
`extensions.quota` beside the refusal (issue 9: refusal tests pin the `code` and fields, not only
the message). The rules behind them are in tests/unit/metering/test_quota_decision_table.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from domain.metering import period_reset_at
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.api import operation
from support.marketplace import ADMIN, MONDAY, Clock, member_with_organisation, set_up_market

NOW = MONDAY + timedelta(seconds=15)  # 15 s into a clock minute: the rate window ends in 45 s
RESET_AT = period_reset_at("2026-03")  # 2026-04-01 00:00 China time


@dataclass
class World:
    http: TestClient
    clock: Clock
    asset_id: str
    rows_key: str  # a subscription with 2 rows a month
    rate_key: str  # a subscription with 2 calls a minute and 3 calls a month


@pytest.fixture
def world() -> Iterator[World]:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    clock = Clock(NOW)
    bank.market.clock = bank.row_access.clock = clock
    market = set_up_market(bank)
    asset_id = market.assets["unconditional"]  # one row
    keys = []
    for n, name, quotas in ((31, "两行版", {"rows_per_month": 2}),
                            (32, "限速版", {"rate_limit_per_minute": 2, "calls_per_month": 3})):
        plan = bank.licensing.define_plan(
            asset_id=asset_id, name=name, licence_template_id=market.templates["open"], price={},
            quotas=quotas, overage="block", field_tier="masked", by=ADMIN)
        member, organisation = member_with_organisation(bank, email=f"m{n}@startup.example", n=n)
        bank.subscriptions.subscribe(organisation, str(plan.id), accepted_terms_version=1, by=member)
        keys.append(bank.api_keys.create_api_key(organisation, name="k", scopes=["rows:read"],
                                                    by=member)[1])
    bank.entitlements_follower.catch_up()
    with TestClient(create_app(bank)) as http:
        yield World(http, clock, asset_id, *keys)


def _rows(world: World, key: str):
    return world.http.post("/graphql", json={"query": operation("Rows"),
                                             "variables": {"assetId": world.asset_id}},
                           headers={"Authorization": f"Bearer {key}"})


def _quota(rows_remaining, calls_remaining, rows_used, calls_used, rate_limit, rate_remaining) -> dict:
    return {"rowsRemaining": rows_remaining, "callsRemaining": calls_remaining,
            "rowsUsed": rows_used, "callsUsed": calls_used, "resetAt": RESET_AT.isoformat(),
            "rateLimit": rate_limit, "rateRemaining": rate_remaining}


def test_an_exhausted_row_quota_is_quota_exceeded_with_retry_after_and_reset_at(world: World) -> None:
    for used in (1, 2):
        body = _rows(world, world.rows_key).json()
        assert body["extensions"]["quota"] == _quota(2 - used, None, used, used, None, None)

    response = _rows(world, world.rows_key)

    wait = int((RESET_AT - NOW).total_seconds())
    assert response.status_code == 429 and response.headers["Retry-After"] == str(wait)
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["path"] == ["rows"]
    assert error["extensions"] == {"code": "QUOTA_EXCEEDED", "retryAfter": wait,
                                   "resetAt": RESET_AT.isoformat(),
                                   "requestId": response.headers["X-Request-Id"]}
    assert "quota is used up" in error["message"]
    # nothing was served, nothing counted: the figures are those of before the refusal
    assert body["extensions"]["quota"] == _quota(0, None, 2, 2, None, None)
    assert (response.headers["X-RateLimit-Remaining"], response.headers["RateLimit-Remaining"]) == ("0", "0")


def test_the_rate_limit_is_rate_limited_until_the_next_minute_and_uses_no_call(world: World) -> None:
    for used in (1, 2):
        body = _rows(world, world.rate_key).json()
        assert body["extensions"]["quota"] == _quota(None, 3 - used, 1 * used, used, 2, 2 - used)

    response = _rows(world, world.rate_key)

    assert response.status_code == 429 and response.headers["Retry-After"] == "45"
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["path"] == ["rows"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 45,
                                   "requestId": response.headers["X-Request-Id"]}
    assert "2 calls a minute" in error["message"]
    assert body["extensions"]["quota"] == _quota(None, 1, 2, 2, 2, 0)


def test_a_used_up_calls_quota_is_quota_exceeded_even_with_the_rate_limit_free(world: World) -> None:
    for _ in range(2):
        _rows(world, world.rate_key)
    world.clock.now = NOW + timedelta(minutes=1)
    assert _rows(world, world.rate_key).json()["extensions"]["quota"] == _quota(None, 0, 3, 3, 2, 1)

    response = _rows(world, world.rate_key)

    wait = int((RESET_AT - world.clock.now).total_seconds())
    assert response.status_code == 429 and response.headers["Retry-After"] == str(wait)
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "QUOTA_EXCEEDED", "retryAfter": wait,
                                   "resetAt": RESET_AT.isoformat(),
                                   "requestId": response.headers["X-Request-Id"]}
    assert response.json()["extensions"]["quota"] == _quota(None, 0, 3, 3, 2, 1)
