"""Catalogue steps (features/catalogue/): registering assets, uploading versions, the open
review, publishing and withdrawing, and what the catalogue then shows."""

from __future__ import annotations

from typing import Any

from bdd.steps.core import UPLOAD_LIMIT, as_user, payload_of
from pytest_bdd import given, parsers, then, when
from support.api import GraphQLTestClient
from support.catalogue import sample_metadata

BUS_STOPS = [("LA0001", "六安市政务中心", "116.5078", "31.7529"),
             ("LA0002", "皖西学院", "116.4862", "31.7760"),
             ("LA0003", "六安火车站", "116.5421", "31.7350")]


def bus_stop_csv(encoding: str = "utf-8") -> bytes:
    lines = ["站点编号,站点名称,经度,纬度"] + [",".join(row) for row in BUS_STOPS]
    return ("\n".join(lines) + "\n").encode(encoding)


MALFORMED = {
    "a ragged row on line 3": "站点编号,站点名称,经度,纬度\nLA0001,政务中心,116.5,31.7\nLA0002,皖西学院,116.4\n",
    "undecodable bytes": None,  # built below: valid UTF-8 first, then a broken byte sequence
    "an empty file": "",
    "a bad number on line 4": ("站点编号,站点名称,经度,纬度\nLA0001,a,116.5,31.7\nLA0002,b,116.4,31.7\n"
                               "LA0003,c,东经116度,31.7\n"),
}


def malformed_file(name: str) -> bytes:
    if name == "undecodable bytes":
        head = bus_stop_csv() * 1
        # 70 KiB of valid UTF-8 rows, so the sniffed prefix decodes, then bytes that never do.
        body = "".join(f"LB{i:04d},站点{i},116.5,31.7\n" for i in range(3000)).encode()
        return head + body + b"LC0001,\xff\xfe\xfa,116.5,31.7\n"
    return MALFORMED[name].encode("utf-8")


@when(parsers.parse('they register the data asset "{name}" classified {c} {i} {g}'))
@given(parsers.parse('they registered the data asset "{name}" classified {c} {i} {g}'))
def register_asset(world: dict, name: str, c: str, i: str, g: str) -> None:
    metadata = _camel_metadata(sample_metadata(
        name=name, classification={"class_code": c, "item_code": i, "catalog_code": g, "detail_code": ""}))
    body = world["api"].call("RegisterAsset", metadata=metadata)
    world["answer"] = body
    if "errors" in body:  # e.g. an enum value the schema itself refuses
        return
    payload = payload_of(body)
    if payload["asset"]:
        world["asset_id"] = payload["asset"]["id"]
        world["asset"] = payload["asset"]


@when("they register a conditionally open asset without a legal basis")
def register_conditional_without_basis(world: dict) -> None:
    metadata = _camel_metadata(sample_metadata(
        name="医疗机构名录", opening={"type": "conditional", "condition": "科研用途", "legal_basis": ""}))
    world["answer"] = world["api"].call("RegisterAsset", metadata=metadata)


@when(parsers.parse("they upload a {encoding} CSV with 3 bus stops"))
@given(parsers.parse("they uploaded a {encoding} CSV with 3 bus stops"))
def upload_bus_stops(world: dict, encoding: str) -> None:
    codec = {"UTF-8": "utf-8", "GB18030": "gb18030"}[encoding]
    response = world["api"].upload(world["asset_id"], bus_stop_csv(codec))
    world["answer"] = response.json()
    world["upload"] = payload_of(world["answer"])


@when(parsers.parse('"{username}" uploads a UTF-8 CSV with 3 bus stops to it'))
def upload_as_someone_else(world: dict, username: str) -> None:
    api = as_user(world, username)
    world["answer"] = api.upload(world["asset_id"], bus_stop_csv()).json()


@when(parsers.parse('they upload the file "{name}"'))
def upload_malformed(world: dict, name: str) -> None:
    world["answer"] = world["api"].upload(world["asset_id"], malformed_file(name)).json()


@when("they upload a file larger than the upload limit")
def upload_too_large(world: dict) -> None:
    big = bus_stop_csv() + b"LX0001,x,116.5,31.7\n" * (UPLOAD_LIMIT // 16)
    world["response"] = world["api"].upload(world["asset_id"], big)


@when(parsers.re(r'(?:they|"(?P<username>[^"]+)") submits? version (?P<number>\d+) for open review(?: again)?$'))
@given(parsers.parse("they submitted version {number:d} for open review"))
def submit(world: dict, number: int, username: str | None = None) -> None:
    api = as_user(world, username) if username else world["api"]
    world["answer"] = api.call("SubmitForReview", assetId=world["asset_id"], version=int(number))


@when(parsers.parse('"{username}" approves it because "{reason}"'))
def approve(world: dict, username: str, reason: str) -> None:
    world["answer"] = as_user(world, username).call("ApproveAsset", assetId=world["asset_id"], reason=reason)


@when(parsers.parse('"{username}" rejects it because "{reason}"'))
def reject(world: dict, username: str, reason: str) -> None:
    world["answer"] = as_user(world, username).call("RejectAsset", assetId=world["asset_id"], reasons=[reason])


@when(parsers.re(r'(?:they|"(?P<username>[^"]+)") publish(?:es)? version (?P<number>\d+)$'))
def publish(world: dict, number: str, username: str | None = None) -> None:
    api = as_user(world, username) if username else world["api"]
    world["answer"] = api.call("PublishAsset", assetId=world["asset_id"], version=int(number))


@when(parsers.parse('"{username}" withdraws it because "{reason}"'))
def withdraw(world: dict, username: str, reason: str) -> None:
    world["answer"] = as_user(world, username).call("WithdrawAsset", assetId=world["asset_id"], reason=reason)


@then(parsers.parse('the asset has the resource code "{code}" and is a draft'))
def resource_code_and_draft(world: dict, code: str) -> None:
    assert world["asset"]["resourceCode"] == code
    assert world["asset"]["status"] == "DRAFT"


@then(parsers.parse('version {number:d} has {rows:d} rows with the columns "{columns}"'))
def version_rows_and_columns(world: dict, number: int, rows: int, columns: str) -> None:
    version = world["upload"]["version"]
    assert (version["number"], version["rowCount"]) == (number, rows), world["upload"]
    assert [c["name"] for c in version["columns"]] == [c.strip() for c in columns.split(",")]


@then(parsers.parse('version {number:d} has {rows:d} rows and was read as "{encoding}"'))
def version_encoding(world: dict, number: int, rows: int, encoding: str) -> None:
    version = world["upload"]["version"]
    assert (version["number"], version["rowCount"], version["encoding"]) == (number, rows, encoding)


def _anonymous_search(world: dict, text: str) -> list[dict]:
    api: GraphQLTestClient = world["api"]
    token, api.token = api.token, None
    try:
        return api.data("SearchCatalogue", search=text)["catalogue"]["nodes"]
    finally:
        api.token = token


@then(parsers.parse('an anonymous search for "{text}" finds "{name}" with {rows:d} rows'))
def anonymous_search_finds(world: dict, text: str, name: str, rows: int) -> None:
    nodes = _anonymous_search(world, text)
    assert [(n["name"], n["currentVersion"]["rowCount"]) for n in nodes] == [(name, rows)]


@then(parsers.parse('an anonymous search for "{text}" finds nothing'))
def anonymous_search_finds_nothing(world: dict, text: str) -> None:
    assert _anonymous_search(world, text) == []


@then("an anonymous look-up of the asset finds nothing")
def anonymous_lookup(world: dict) -> None:
    api: GraphQLTestClient = world["api"]
    api.token = None
    assert api.data("GetAsset", id=world["asset_id"])["asset"] is None


def _asset_as_staff(world: dict) -> dict:
    api = as_user(world, "reviewer")
    return api.data("GetAsset", id=world["asset_id"])["asset"]


@then(parsers.parse('its history reads "{events}"'))
def history_reads(world: dict, events: str) -> None:
    history = _asset_as_staff(world)["history"]
    assert [h["event"] for h in history] == [e.strip() for e in events.split(",")]


@then(parsers.parse('the history names "{first}" for "{first_event}" and "{second}" for "{second_event}"'))
def history_names(world: dict, first: str, first_event: str, second: str, second_event: str) -> None:
    by_event = {h["event"]: h["byName"] for h in _asset_as_staff(world)["history"]}
    accounts = world["bank"].staff
    assert by_event[first_event] == accounts.find_by_username(first).name
    assert by_event[second_event] == accounts.find_by_username(second).name


@then(parsers.parse('the asset is "{status}"'))
def asset_status(world: dict, status: str) -> None:
    assert _asset_as_staff(world)["status"] == status


@then("the asset has no versions")
def no_versions(world: dict) -> None:
    asset = world["bank"].catalogue.get_asset(world["asset_id"])
    assert asset.versions == []
    assert _asset_as_staff(world)["versions"] == []
    assert not any(name.startswith("v_") for name in _datastore_tables(world))


def _datastore_tables(world: dict) -> list[str]:
    store = world["bank"].datastore
    return [t for t in store.tables()] if hasattr(store, "tables") else []


@then("the request is refused as too large")
def refused_too_large(world: dict) -> None:
    response = world["response"]
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@then(parsers.parse('the catalogue holds no asset named "{name}"'))
def no_asset_named(world: dict, name: str) -> None:
    api = as_user(world, "reviewer")
    nodes = api.data("SearchCatalogue", search=name, status=["DRAFT", "SUBMITTED"])["catalogue"]["nodes"]
    assert nodes == []


@then("an anonymous reader of its history sees no internal table names")
def public_history(world: dict) -> None:
    api: GraphQLTestClient = world["api"]
    api.token = None
    history = api.data("GetAsset", id=world["asset_id"])["asset"]["history"]
    details = repr([entry["details"] for entry in history])
    table = world["bank"].catalogue.get_asset(world["asset_id"]).get_version(1)["table"]
    assert history and table not in details and "originator_topic" not in details


def _camel_metadata(metadata: dict) -> dict:
    """The snake_case sample metadata as GraphQL input (camelCase keys, enum names)."""
    enums = {"category", "class_code", "data_type", "sensitivity", "type", "update_cycle"}

    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(p.title() for p in rest)

    def convert(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {camel(k): convert(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, key) for v in value]
        if key in enums and isinstance(value, str):
            return _enum_name(key, value)
        return value

    return convert(metadata)


def _enum_name(key: str, value: str) -> str:
    if key == "class_code":
        return {"1": "BASE", "2": "THEME", "3": "DEPARTMENT"}.get(value, value)
    return value.upper()
