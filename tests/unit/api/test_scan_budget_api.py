"""A page that would scan a table over the scan budget is refused before the table is read and
before any quota is used (issue 11); indexed filters and small tables are still served, and the
column rule of the caller's tier still answers first. Which columns are indexed is public."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from marketplace.settings import Settings
from support.api import operation
from support.people import ID_NUMBER, PEOPLE_ITEMS, PHONE, People, people_lines, people_world

ITEMS = (*PEOPLE_ITEMS, ("登记日期", "date", "none"))  # a date: indexed without a declaration
BUDGET = 100


def lines(rows: int) -> list[str]:
    out = people_lines(rows)
    return [out[0] + ",登记日期"] + [f"{line},2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
                                     for i, line in enumerate(out[1:], start=1)]


def world_of(rows: int) -> Iterator[People]:
    yield from people_world(rows=rows, items=ITEMS, lines=lines(rows),
                            settings=Settings(escalation_interval_seconds=0, scan_budget_rows=BUDGET))


@pytest.fixture
def world() -> Iterator[People]:
    yield from world_of(300)


def _error(response) -> dict:
    body = response.json()
    assert body.get("data") is None, body
    return body["errors"][0]


SCANS = [
    pytest.param({"where": {"行业": "制造业"}}, "'行业' has no index", id="unindexed eq"),
    pytest.param({"where": {"人数": {"gte": 16}}}, "'人数' has no index", id="unindexed range"),
    pytest.param({"where": {"编号": {"ne": "P000001"}}}, "ne and contains cannot use an index", id="ne on the key"),
    pytest.param({"orderBy": "人数"}, "'人数' has no index to sort by", id="unindexed order"),
    pytest.param({"where": {"行业": "制造业"}, "orderBy": "登记日期"}, "'行业' has no index",
                 id="indexed order, unindexed filter"),
]


@pytest.mark.parametrize("variables, why", SCANS)
def test_a_scan_over_the_budget_is_bad_user_input_naming_the_indexed_columns(world: People, variables, why) -> None:
    before = world.usage()
    error = _error(world.rows(world.keys["masked"], first=10, **variables))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == (
        f"this query would read the whole table (300 rows, over the scan budget of {BUDGET}): {why}. "
        "Instead, filter with eq, in or a range on an indexed column (编号, 登记日期), or sort by one "
        "without a filter")
    assert world.usage() == before == {**before, "rows": 0, "calls": 0}  # nothing reserved, nothing used


def test_the_refusal_reads_no_table(world: People, monkeypatch) -> None:
    def no_reads(*args: object, **kwargs: object):
        raise AssertionError("the table was read")

    monkeypatch.setattr(world.bank.datastore, "query", no_reads)
    monkeypatch.setattr(world.bank.datastore, "count", no_reads)
    assert _error(world.rows(world.keys["full"], where={"行业": "制造业"}))["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("variables", [
    {},
    {"where": {"编号": "P000007"}},
    {"where": {"编号": {"in": ["P000007", "P000008"]}, "行业": "制造业"}},
    {"where": {"登记日期": {"gte": "2025-12-01"}}},
    {"where": {"登记日期": {"gte": "2025-06-01", "lt": "2025-07-01"}}, "orderBy": "人数"},
    {"orderBy": "登记日期", "descending": True},
], ids=["first page", "key eq", "key in beside an unindexed eq", "date range", "range, any order", "indexed order"])
def test_indexed_filters_and_orders_are_served_whatever_the_table_size(world: People, variables) -> None:
    body = world.rows(world.keys["masked"], first=5, **variables).json()
    assert "errors" not in body, body
    assert body["data"]["rows"]["rows"]


def test_a_table_within_the_budget_still_scans() -> None:
    for world in world_of(BUDGET):
        body = world.rows(world.keys["masked"], where={"行业": "制造业"}, orderBy="人数", first=5).json()
        assert "errors" not in body and all(r["行业"] == "制造业" for r in body["data"]["rows"]["rows"])


@pytest.mark.parametrize("variables, column", [
    ({"where": {PHONE: "13800000007"}}, PHONE),
    ({"where": {ID_NUMBER: {"contains": "1990"}}}, ID_NUMBER),
    ({"orderBy": PHONE}, PHONE),
])
def test_the_column_rule_of_the_tier_answers_before_the_budget(world: People, variables, column) -> None:
    error = _error(world.rows(world.keys["masked"], **variables))
    assert error["extensions"]["code"] == "FORBIDDEN" and error["extensions"]["column"] == column


def test_the_suggestion_names_only_columns_the_caller_may_filter_on() -> None:
    """户籍区县 is an area column (indexed by default) and an address (masked under the masked
    tier): suggesting it would only lead to the next refusal."""
    items = (*ITEMS, ("户籍区县", "string", "address"))
    rows = [line + ("," + "户籍区县" if n == 0 else ",霍山县") for n, line in enumerate(lines(300))]
    for world in people_world(rows=300, items=items, lines=rows,
                              settings=Settings(escalation_interval_seconds=0, scan_budget_rows=BUDGET)):
        masked = _error(world.rows(world.keys["masked"], where={"行业": "制造业"}))["message"]
        full = _error(world.rows(world.keys["full"], where={"行业": "制造业"}))["message"]
        assert "(编号, 登记日期)" in masked and "户籍区县" not in masked
        assert "(编号, 登记日期, 户籍区县)" in full


def test_the_version_says_which_columns_are_filterable(world: People) -> None:
    body = world.http.post("/graphql", json={"query": operation("GetAsset"),
                                             "variables": {"id": world.asset}}).json()
    asset = body["data"]["asset"]
    columns = {c["name"]: c["filterable"] for c in asset["versions"][0]["columns"]}
    assert columns == {"编号": True, "姓名": False, PHONE: False, ID_NUMBER: False, "行业": False,
                       "人数": False, "登记日期": True}
    assert {i["name"]: i["filterable"] for i in asset["informationItems"]} == {n: False for n, _, _ in ITEMS}


@pytest.mark.parametrize("variables, served", [
    ({}, True),
    ({"where": {"编号": "P000001"}}, True),
    ({"where": {"登记日期": {"gte": "2025-06-01"}}}, True),
    ({"orderBy": "登记日期"}, True),
    ({"where": {"行业": "制造业"}}, False),
    ({"orderBy": "人数"}, False),
    ({"where": {"行业": "制造业"}, "orderBy": "登记日期"}, False),
    ({"where": {"no such column": 1}}, False),
    ({"where": "not an object"}, False),
])
def test_the_access_path_tells_the_web_layer_which_pages_an_index_serves(
        world: People, variables: dict, served: bool) -> None:
    """Pages an index serves run on the event loop; the rest (scans, bad input) on a thread."""
    access = world.bank.row_access
    assert access.served_by_index(world.asset, variables.get("where"),
                                  variables.get("orderBy")) is served
    assert access.served_by_index("no such asset", None, None) is False
