"""The demo departments and the catalogue metadata of the demo assets."""

from __future__ import annotations

import pytest

from domain.identifiers import check_uscc
from domain.metadata import AssetMetadata
from marketplace.demo import ASSETS, DEPARTMENTS, DEPARTMENTS_BY_KEY, ROW_GENERATORS
from marketplace.demo.assets import ASSET_KEYS

DEPARTMENT_NAMES = {
    "六安市公安局", "六安市民政局", "六安市人力资源和社会保障局", "六安市卫生健康委员会",
    "六安市市场监督管理局", "国家税务总局六安市税务局", "六安市自然资源和规划局", "六安市统计局",
}


def test_the_eight_lu_an_departments_are_there_once_each() -> None:
    assert {d["name"] for d in DEPARTMENTS} == DEPARTMENT_NAMES
    assert len({d["key"] for d in DEPARTMENTS}) == len(DEPARTMENTS) == 8
    assert len({d["code"] for d in DEPARTMENTS}) == 8


@pytest.mark.parametrize("department", DEPARTMENTS, ids=lambda d: d["key"])
def test_every_department_code_is_a_valid_code_of_a_lu_an_government_organ(department: dict) -> None:
    assert check_uscc(department["code"]) is None
    assert department["code"].startswith("11341500")
    assert "0564" in department["contact"] and "@" in department["contact"]


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a["key"])
def test_every_asset_passes_the_catalogue_standard(asset: dict) -> None:
    assert set(asset) == ASSET_KEYS
    metadata = AssetMetadata.parse(asset)
    assert metadata.name == asset["name"]
    assert asset["department"] in DEPARTMENTS_BY_KEY
    assert asset["rows"] in ROW_GENERATORS
    assert asset["row_count"] > 0


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a["key"])
def test_every_asset_names_its_information_items_exactly_as_its_generated_header(asset: dict) -> None:
    header = next(ROW_GENERATORS[asset["rows"]](0))
    assert [item["name"] for item in asset["information_items"]] == header


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a["key"])
def test_restricted_sharing_or_opening_cites_a_legal_basis(asset: dict) -> None:
    if asset["sharing"]["type"] != "unconditional":
        assert asset["sharing"]["legal_basis"].startswith("《")
    else:
        assert asset["sharing"]["legal_basis"] == ""
    if asset["opening"]["type"] != "unconditional":
        assert asset["opening"]["legal_basis"].startswith("《")
    else:
        assert asset["opening"]["legal_basis"] == ""


def test_exactly_one_asset_is_not_open_and_it_holds_personal_data() -> None:
    closed = [a for a in ASSETS if a["opening"]["type"] == "not_open"]
    assert [a["key"] for a in closed] == ["subsistence_allowance"]
    sensitivities = {i["sensitivity"] for i in closed[0]["information_items"]}
    assert {"id_number", "name", "financial"} <= sensitivities
    assert closed[0]["security_level"] == 4


def test_the_assets_cover_the_high_value_categories_and_every_department() -> None:
    assert len(ASSETS) >= 12
    assert len({a["key"] for a in ASSETS}) == len(ASSETS)
    assert {"enterprise", "population", "geospatial", "health", "statistics", "social_credit",
            "transport", "energy_environment"} <= {a["category"] for a in ASSETS}
    assert {a["department"] for a in ASSETS} == set(DEPARTMENTS_BY_KEY)


def test_the_enterprise_registry_is_open_but_marks_its_personal_columns() -> None:
    registry = next(a for a in ASSETS if a["key"] == "enterprise_registry")
    items = {i["name"]: i for i in registry["information_items"]}
    assert registry["department"] == "market_regulation" and registry["category"] == "enterprise"
    assert registry["row_count"] >= 100_000
    assert registry["opening"]["type"] == "unconditional"
    assert items["统一社会信用代码"]["key"] is True
    assert items["法定代表人"]["sensitivity"] == "name"
    assert items["联系电话"]["sensitivity"] == "phone"


def test_the_population_extract_is_conditionally_open_under_the_pipl() -> None:
    extract = next(a for a in ASSETS if a["key"] == "population_extract")
    items = {i["name"]: i for i in extract["information_items"]}
    assert extract["department"] == "public_security" and extract["category"] == "population"
    assert extract["opening"]["type"] == "conditional"
    assert "个人信息保护法" in extract["opening"]["legal_basis"]
    assert list(items) == ["公民身份号码", "姓名", "性别", "出生日期", "户籍地址", "所属区县"]
    assert items["公民身份号码"]["sensitivity"] == "id_number" and items["公民身份号码"]["key"]
    assert items["姓名"]["sensitivity"] == "name"
    assert items["户籍地址"]["sensitivity"] == "address"
