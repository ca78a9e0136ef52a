"""Privacy steps (features/privacy/): undeclared personal columns, their clearance, and masking
decided for the row."""

from __future__ import annotations

import io
from typing import Any

from bdd.steps.core import PASSWORD, payload_of
from pytest_bdd import given, parsers, then, when
from support.api import GraphQLTestClient, operation
from support.catalogue import sample_metadata
from support.masking_oracle import ENOUGH, count_id_numbers

from domain.actors import Actor, Role
from domain.metadata import Sensitivity

REVIEWER = Actor("r", "审查员", Role.REVIEWER)
VOLUNTEER_IDS = ["341502199001010017", "34052419800101001X", "11010519491231002X",
                 "341524201006180427", "341503198512120036"]


def _item(name: str, data_type: str = "string", sensitivity: str = "none", key: bool = False) -> dict:
    return {"name": name, "dataType": data_type.upper(), "description": "",
            "sensitivity": sensitivity.upper(), "key": key}


def _body(world: dict) -> dict:
    return payload_of(world["answer"])


def _names(world: dict) -> dict:
    return world.setdefault("privacy_assets", {})


@when(parsers.parse('they register the volunteer list "{name}" declaring nothing personal'))
def register_volunteers(world: dict, name: str) -> None:
    """The logged-in publisher registers an asset whose items declare no personal data."""
    metadata = {"name": name, "classification": {"classCode": "THEME", "itemCode": "03", "catalogCode": "001",
                                                 "detailCode": ""},
                "abstract": "六安市志愿服务队的志愿者名单。", "format": "CSV", "category": "OTHER",
                "informationItems": [_item("编号", key=True), _item("证件"), _item("服务队")],
                "sharing": {"type": "UNCONDITIONAL", "condition": "", "mode": "接口", "legalBasis": ""},
                "opening": {"type": "UNCONDITIONAL", "condition": "", "legalBasis": ""},
                "updateCycle": "MONTHLY", "securityLevel": 1, "relatedCodes": [], "keywords": ["志愿者"]}
    world["answer"] = world["api"].call("RegisterAsset", metadata=metadata)
    payload = _body(world)
    assert payload["errors"] == [], payload
    world["asset_id"] = payload["asset"]["id"]
    _names(world)[name] = world["asset_id"]


@when(parsers.parse('they upload {count:d} volunteers whose "{column}" holds identity numbers'))
def upload_volunteers(world: dict, count: int, column: str) -> None:
    lines = [f"编号,{column},服务队"] + [f"V{n},{pid},城北服务队" for n, pid in enumerate(VOLUNTEER_IDS[:count], 1)]
    world["answer"] = world["api"].upload(world["asset_id"], "\n".join(lines).encode()).json()
    world["uploaded"] = {column: VOLUNTEER_IDS[:count]}


@then(parsers.parse('the upload reports "{column}" as "{kind}"'))
def upload_reports(world: dict, column: str, kind: str) -> None:
    payload = _body(world)
    assert payload["errors"] == [] and payload["quality"]["personal_columns"] == {column: kind}, payload


@given(parsers.parse('the resident register "{name}" of "{department}" lists "{number}" "{person}" '
                     '"{gender}" born "{born}"'))
def resident_register(world: dict, name: str, department: str, number: str, person: str, gender: str,
                      born: str) -> None:
    """Publishes an open asset of people; 出生日期 is declared as nothing personal (the import
    finds it by its name)."""
    bank = world["bank"]
    publisher = Actor("pub", "数据专员", Role.PUBLISHER, world["departments"][department])
    items = [{"name": n, "data_type": t, "description": "", "sensitivity": s, "key": k}
             for n, t, s, k in (("公民身份号码", "string", "id_number", True), ("姓名", "string", "name", False),
                                ("性别", "string", "none", False), ("出生日期", "date", "none", False))]
    metadata = sample_metadata(name=name, category="population", information_items=items,
                               classification={"class_code": "1", "item_code": "01", "catalog_code": "001",
                                               "detail_code": ""})
    asset = bank.catalogue.register_asset(department_id=publisher.department_id, metadata=metadata,
                                          by=publisher)
    csv = f"公民身份号码,姓名,性别,出生日期\n{number},{person},{gender},{born}\n".encode()
    asset, version = bank.catalogue.upload_version(str(asset.id), io.BytesIO(csv), source_format="csv",
                                                   by=publisher)
    bank.catalogue.submit_for_review(str(asset.id), version, by=publisher)
    bank.catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    bank.catalogue.publish(str(asset.id), version, by=publisher)
    bank.catalogue_follower.catch_up()
    _names(world)[name] = world["asset_id"] = str(asset.id)


@when(parsers.parse('an anonymous person reads the rows of "{name}"'))
def anonymous_reads_all(world: dict, name: str) -> None:
    api: GraphQLTestClient = world["api"]
    world["response"] = api.http.post("/graphql", json={"query": operation("Rows"), "variables": {
        "assetId": _names(world)[name], "first": 100}})


def _rows(world: dict) -> list[dict[str, Any]]:
    body = world["response"].json()
    assert "errors" not in body, body
    return body["data"]["rows"]["rows"]


@then(parsers.parse('every "{column}" shows its region and nothing more'))
def region_only(world: dict, column: str) -> None:
    expected = [v[:6] + "*" * 12 for v in world["uploaded"][column]]
    assert [r[column] for r in _rows(world)] == expected


@then(parsers.parse('every "{column}" reads as uploaded'))
def as_uploaded(world: dict, column: str) -> None:
    assert [r[column] for r in _rows(world)] == world["uploaded"][column]


@when(parsers.parse('"{username}" clears the column "{column}" because "{reason}"'))
def clear_column(world: dict, username: str, column: str, reason: str) -> None:
    api: GraphQLTestClient = world["api"]
    api.login(username, PASSWORD)
    world["answer"] = api.call("ClearPersonalColumn", assetId=world["asset_id"], column=column, reason=reason)


@then(parsers.parse('the asset lists "{column}" as cleared because "{reason}"'))
def listed_as_cleared(world: dict, column: str, reason: str) -> None:
    payload = _body(world)
    assert payload["errors"] == [], payload
    listed = {c["column"]: c for c in payload["asset"]["personalColumns"]}
    assert listed[column]["cleared"] and listed[column]["clearedReason"] == reason, listed


@then(parsers.parse('the birth date reads "{year}"'))
def birth_date_reads(world: dict, year: str) -> None:
    assert _rows(world)[0]["出生日期"] == year


@then(parsers.parse("at least {count:d} identity numbers fit everything the row shows"))
def identity_numbers_fit(world: dict, count: int) -> None:
    assert count == ENOUGH
    (row,) = _rows(world)
    kinds = {"出生日期": Sensitivity.BIRTH_DATE}
    assert count_id_numbers(row["公民身份号码"], row, kinds) >= count
