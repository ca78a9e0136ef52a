"""`definePlan(itemOverrides:)` is a GenericScalar: anything JSON can say arrives. What is not an
object of information item → MASKED, FULL or DROPPED is a payload error naming the field, never
a server error (found by schemathesis, tests/contract/test_graphql_fuzz.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from marketplace.bootstrap import build_in_memory
from marketplace.web.app import create_app
from support.api import GraphQLTestClient
from support.marketplace import ADMIN, PASSWORD, Clock, Market, set_up_market


@pytest.fixture
def world() -> Iterator[tuple[GraphQLTestClient, Market]]:
    bank = build_in_memory()
    bank.market.clock = Clock()
    market = set_up_market(bank)
    bank.staff.open_account(username="admin", name="管理员", role=ADMIN.role, password=PASSWORD, by=None)
    with TestClient(create_app(bank)) as http:
        api = GraphQLTestClient(http)
        api.login("admin")
        yield api, market


@pytest.mark.parametrize("overrides", [1, "FULL", ["站点名称"], [["站点名称", "FULL"]], True])
def test_item_overrides_that_are_not_an_object_are_refused_naming_the_field(world, overrides) -> None:
    api, market = world
    body = api.call("DefinePlan", assetId=market.assets["unconditional"], name="商业版",
                    licenceTemplateId=market.templates["commercial"], price={"monthlyFeeFen": 9900},
                    quotas={"rowsPerMonth": 1000}, overage="BLOCK", fieldTier="MASKED",
                    itemOverrides=overrides)
    assert "errors" not in body, body
    payload = body["data"]["definePlan"]
    assert payload["plan"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "itemOverrides")]
    plans = api.data("Plans", assetId=market.assets["unconditional"])["plans"]
    assert [p["name"] for p in plans] == ["免费版"]  # nothing was defined
