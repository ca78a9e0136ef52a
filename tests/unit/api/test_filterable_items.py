"""A publisher declares which information items users filter by (``filterable``): they are
indexed at every upload, and the API says so on the items and on the version's columns."""

from __future__ import annotations

import io

import pytest
from starlette.testclient import TestClient

from domain.errors import InvalidInputError
from domain.metadata import MAX_FILTERABLE, AssetMetadata
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from domain.actors import Role
from support.api import GraphQLTestClient, operation
from support.catalogue import sample_metadata
from support.marketplace import ADMIN, PASSWORD, REVIEWER, set_up_market

CSV = "站点编号,站点名称,经度,纬度,启用日期\nLA0001,政务中心,116.5078,31.7529,2020-01-01\n".encode()


def items(**filterable: bool) -> list[dict]:
    types = {"站点编号": "string", "站点名称": "string", "经度": "decimal", "纬度": "decimal", "启用日期": "date"}
    return [{"name": n, "data_type": t, "description": "", "sensitivity": "none", "key": n == "站点编号",
             **({"filterable": filterable[n]} if n in filterable else {})} for n, t in types.items()]


def published(bank, publisher, information_items: list[dict]) -> str:
    catalogue = bank.catalogue
    asset = catalogue.register_asset(department_id=publisher.department_id, by=publisher,
                                     metadata=sample_metadata(information_items=information_items))
    asset, number = catalogue.upload_version(str(asset.id), io.BytesIO(CSV), source_format="csv", by=publisher)
    catalogue.submit_for_review(str(asset.id), number, by=publisher)
    catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    catalogue.publish(str(asset.id), number, by=publisher)
    return str(asset.id)


def asset_of(information_items: list[dict]) -> dict:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    market = set_up_market(bank)
    asset_id = published(bank, market.publisher, information_items)
    bank.catalogue_follower.catch_up()
    with TestClient(create_app(bank)) as http:
        body = http.post("/graphql", json={"query": operation("GetAsset"), "variables": {"id": asset_id}}).json()
    assert "errors" not in body, body
    return body["data"]["asset"]


def filterable(asset: dict) -> tuple[dict, dict]:
    return ({i["name"]: i["filterable"] for i in asset["informationItems"]},
            {c["name"]: c["filterable"] for c in asset["versions"][0]["columns"]})


def test_declared_filterable_items_are_what_the_version_indexes_with_its_key() -> None:
    declared, indexed = filterable(asset_of(items(站点名称=True, 经度=True)))
    assert declared == {"站点编号": False, "站点名称": True, "经度": True, "纬度": False, "启用日期": False}
    assert indexed == {"站点编号": True, "站点名称": True, "经度": True, "纬度": False, "启用日期": False}


def test_without_a_declaration_the_key_and_the_dates_are_indexed() -> None:
    declared, indexed = filterable(asset_of(items()))
    assert not any(declared.values())
    assert indexed == {"站点编号": True, "站点名称": False, "经度": False, "纬度": False, "启用日期": True}


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_filterable_must_be_true_or_false(value: object) -> None:
    metadata = sample_metadata(information_items=items(站点名称=value))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError) as refused:
        AssetMetadata.parse(metadata)
    assert refused.value.field == "information_items[1].filterable"


def test_more_filterable_items_than_the_bound_are_refused_naming_it() -> None:
    many = [{"name": f"列{i}", "data_type": "string", "filterable": True} for i in range(MAX_FILTERABLE + 1)]
    with pytest.raises(InvalidInputError, match=f"at most {MAX_FILTERABLE} information items may be filterable"):
        AssetMetadata.parse(sample_metadata(information_items=many))


def test_metadata_recorded_before_the_flag_parses_and_records_it_false() -> None:
    recorded = sample_metadata()  # its items carry no filterable
    assert all("filterable" not in i for i in recorded["information_items"])
    assert [i["filterable"] for i in AssetMetadata.parse(recorded).record()["information_items"]] == [False] * 4


REGISTER = """mutation($metadata: AssetMetadataInput!) { registerAsset(metadata: $metadata) {
  asset { informationItems { name key filterable } } errors { field message code } } }"""


def test_the_register_mutation_takes_the_flag_and_defaults_it_to_false() -> None:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    market = set_up_market(bank)
    bank.staff.open_account(username="pub", name="交通局数据专员", role=Role.PUBLISHER, password=PASSWORD,
                            department_id=market.publisher.department_id, by=ADMIN)
    metadata = {
        "name": "公交站点", "abstract": "六安市城区公交站点。", "format": "CSV", "category": "TRANSPORT",
        "classification": {"classCode": "THEME", "itemCode": "08", "catalogCode": "002"},
        "informationItems": [{"name": "站点编号", "dataType": "STRING", "key": True},
                             {"name": "站点名称", "dataType": "STRING", "filterable": True},
                             {"name": "经度", "dataType": "DECIMAL"}],
        "sharing": {"type": "UNCONDITIONAL"}, "opening": {"type": "UNCONDITIONAL"},
        "updateCycle": "MONTHLY", "securityLevel": 1}
    with TestClient(create_app(bank)) as http:
        api = GraphQLTestClient(http)
        api.login("pub")
        body = http.post("/graphql", json={"query": REGISTER, "variables": {"metadata": metadata}},
                         headers=api.headers()).json()
    assert "errors" not in body, body
    payload = body["data"]["registerAsset"]
    assert payload["errors"] == []
    assert payload["asset"]["informationItems"] == [
        {"name": "站点编号", "key": True, "filterable": False},
        {"name": "站点名称", "key": False, "filterable": True},
        {"name": "经度", "key": False, "filterable": False}]
