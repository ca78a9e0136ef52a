"""Data access steps (features/access/): API keys, reading rows, monthly quotas and masking."""

from __future__ import annotations

from typing import Any

from bdd.steps.core import ROOT_ADMIN, market_of, payload_of
from pytest_bdd import given, parsers, then, when
from support.api import GraphQLTestClient, operation
from support.catalogue import sample_metadata

from domain.actors import Actor, Role

PEOPLE = [("341502199001010017", "王芳", "金安区"), ("34052419800101001X", "李强", "霍山县"),
          ("11010519491231002X", "张伟", "霍山县"), ("341502199001010017", "赵敏", "裕安区"),
          ("34052419800101001X", "刘洋", "霍山县"), ("11010519491231002X", "陈静", "叶集区")]


class _MonthClock:
    """The access path's clock, moved a month on by a step."""

    def __init__(self) -> None:
        from datetime import datetime, timedelta, timezone

        self.now = datetime(2026, 3, 10, 9, 0, tzinfo=timezone(timedelta(hours=8)))

    def __call__(self):
        return self.now


def _people_metadata(name: str) -> dict:
    items = [
        {"name": "序号", "data_type": "integer", "description": "", "sensitivity": "none", "key": True},
        {"name": "公民身份号码", "data_type": "string", "description": "", "sensitivity": "id_number", "key": False},
        {"name": "姓名", "data_type": "string", "description": "", "sensitivity": "name", "key": False},
        {"name": "所属区县", "data_type": "string", "description": "", "sensitivity": "none", "key": False},
    ]
    return sample_metadata(name=name, category="population", information_items=items,
                           classification={"class_code": "1", "item_code": "01", "catalog_code": "001",
                                           "detail_code": ""})


@given(parsers.parse('the resident list "{asset}" of "{department}" with {count:d} people, open to all'))
def resident_list(world: dict, asset: str, department: str, count: int) -> None:
    """Publishes an unconditionally open asset of people (valid identity numbers, names, counties)."""
    import io

    bank = world["bank"]
    market = market_of(world)
    publisher = Actor("pub", f"{department}数据专员", Role.PUBLISHER, world["departments"][department])
    registered = bank.catalogue.register_asset(department_id=publisher.department_id,
                                               metadata=_people_metadata(asset), by=publisher)
    lines = ["序号,公民身份号码,姓名,所属区县"] + [
        f"{n},{pid},{name},{county}" for n, (pid, name, county) in enumerate(PEOPLE[:count], 1)]
    registered, number = bank.catalogue.upload_version(
        str(registered.id), io.BytesIO("\n".join(lines).encode()), source_format="csv", by=publisher)
    bank.catalogue.submit_for_review(str(registered.id), number, by=publisher)
    bank.catalogue.approve(str(registered.id), reason="核查通过", by=Actor("r", "审查员", Role.REVIEWER))
    bank.catalogue.publish(str(registered.id), number, by=publisher)
    bank.catalogue_follower.catch_up()
    market["assets"][asset] = str(registered.id)
    world["last_asset"] = asset
    world["clock"] = bank.row_access.clock = _MonthClock()


@given(parsers.re(r'it is offered as "(?P<plan>[^"]+)" under "(?P<licence>[^"]+)" with (?P<quota>\d+) rows '
                  r'a month, (?P<tier>masked|in full)$'))
def offered_with_quota(world: dict, plan: str, licence: str, quota: str, tier: str) -> None:
    """Defines a free plan on the last published asset with that monthly row quota and tier."""
    market = market_of(world)
    defined = world["bank"].licensing.define_plan(
        asset_id=market["assets"][world["last_asset"]], name=plan,
        licence_template_id=market["licences"][licence], price={},
        quotas={"rows_per_month": int(quota)}, overage="block",
        field_tier="masked" if tier == "masked" else "full", by=ROOT_ADMIN)
    market["plans"][plan] = str(defined.id)


@given(parsers.parse('they created the API key "{name}"'))
def created_api_key(world: dict, name: str) -> None:
    """The logged-in member creates a key with the rows:read scope; the plaintext is kept."""
    payload = payload_of(world["api"].call("CreateApiKey", name=name, scopes=["rows:read", "catalogue:read"]))
    assert payload["errors"] == [], payload
    world["api_key"], world["api_key_id"] = payload["plaintext"], payload["apiKey"]["id"]


def _read(world: dict, asset: str | None, first: int, *, key: bool = True, after: str | None = None,
          where: dict | None = None) -> None:
    api: GraphQLTestClient = world["api"]
    asset_id = market_of(world)["assets"][asset or world["read_asset"]]
    world["read_asset"] = asset or world["read_asset"]
    token, api.token = api.token, (world["api_key"] if key else None)
    try:
        variables: dict[str, Any] = {"assetId": asset_id, "first": first}
        if after:
            variables["after"] = after
        if where:
            variables["where"] = where
        world["response"] = api.http.post("/graphql", json={"query": operation("Rows"), "variables": variables},
                                          headers=api.headers())
    finally:
        api.token = token
    body = world["response"].json()
    if body.get("data") and body["data"].get("rows"):
        world["cursor"] = body["data"]["rows"]["pageInfo"]["endCursor"]


@when(parsers.parse('the key reads {first:d} rows of "{asset}"'))
def key_reads(world: dict, first: int, asset: str) -> None:
    _read(world, asset, first)


@when(parsers.parse("the key reads the next {first:d} rows"))
def key_reads_next(world: dict, first: int) -> None:
    _read(world, None, first, after=world["cursor"])


@when(parsers.parse('the key reads "{asset}" where "{column}" is "{value}"'))
def key_reads_where(world: dict, asset: str, column: str, value: str) -> None:
    _read(world, asset, 10, where={column: value})


@when(parsers.parse('an anonymous person reads {first:d} rows of "{asset}"'))
def anonymous_reads(world: dict, first: int, asset: str) -> None:
    _read(world, asset, first, key=False)


@when("the next month begins")
def next_month(world: dict) -> None:
    from datetime import timedelta

    world["clock"].now += timedelta(days=31)


@when("they revoke the API key")
def revoke_key(world: dict) -> None:
    payload = payload_of(world["api"].call("RevokeApiKey", keyId=world["api_key_id"]))
    assert payload["errors"] == [], payload


@then(parsers.re(r"the answer has (?P<count>\d+) rows(?: and (?P<left>\d+) rows remain this month)?$"))
def answer_rows(world: dict, count: str, left: str | None) -> None:
    response = world["response"]
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert len(body["data"]["rows"]["rows"]) == int(count)
    if left is not None:
        assert body["extensions"]["quota"]["rowsRemaining"] == int(left)
        assert response.headers["X-RateLimit-Remaining"] == left


@then(parsers.parse('the request is refused with "{code}" until the first of next month'))
def refused_until_next_month(world: dict, code: str) -> None:
    response = world["response"]
    error = response.json()["errors"][0]
    assert response.status_code == 429 and error["extensions"]["code"] == code
    expected = (error["extensions"]["resetAt"], int(response.headers["Retry-After"]))
    assert expected[0] == "2026-04-01T00:00:00+08:00"
    assert expected[1] == int((world["clock"].now.replace(month=4, day=1, hour=0) - world["clock"].now).total_seconds())


@then(parsers.parse('the request is refused with "{code}" saying "{words}"'))
def refused_saying(world: dict, code: str, words: str) -> None:
    errors = world["response"].json()["errors"]
    assert errors[0]["extensions"]["code"] == code, errors
    assert words in errors[0]["message"], errors


@then(parsers.parse('the identity number reads "{number}" and the name "{name}"'))
def first_row_masked(world: dict, number: str, name: str) -> None:
    row = world["response"].json()["data"]["rows"]["rows"][0]
    assert (row["公民身份号码"], row["姓名"]) == (number, name)


@then(parsers.parse('every row has "{column}" "{value}"'))
def every_row_has(world: dict, column: str, value: str) -> None:
    rows = world["response"].json()["data"]["rows"]["rows"]
    assert rows and all(r[column] == value for r in rows), rows


@given(parsers.parse("the bank reads at most {rows:d} rows for a query no index serves"))
def scan_budget(world: dict, rows: int) -> None:
    """The scan budget (DATABANK_SCAN_BUDGET_ROWS), small enough for the scenario's table."""
    world["bank"].row_access.scan_budget_rows = rows
