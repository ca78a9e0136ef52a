"""Personal columns found at import by name and by content, whatever the publisher declared
(default-deny): the import records them with the version's quality report."""

from __future__ import annotations

import io

import pytest

from domain.identifiers import ric_check_char
from marketplace.datastore import ColumnType, ImportSpec, SQLiteDatastore
from marketplace.datastore.personal import detect_personal, kind_by_content, kind_by_name
from marketplace.demo.assets import ASSETS
from marketplace.demo.rows import ROW_GENERATORS

IDS = [h + ric_check_char(h) for h in (f"34150219900101{i:03d}" for i in range(1, 10))]
CARDS = ["6222021234567890128", "4111111111111111", "6217002870012345674"]


@pytest.mark.parametrize("column, kind", [
    ("公民身份号码", "id_number"), ("法人身份证号", "id_number"), ("证件号码", "id_number"),
    ("银行卡号", "bank_card"), ("开户账号", "bank_card"),
    ("手机", "phone"), ("联系电话", "phone"), ("联系人电话", "phone"), ("负责人手机号", "phone"),
    ("出生日期", "birth_date"), ("生日", "birth_date"), ("出生年月", "birth_date"),
    ("年龄", "age"), ("户籍地址", "address"), ("住所", "address"), ("家庭住址", "address"),
    ("姓名", "name"), ("户主姓名", "name"), ("法定代表人", "name"), ("联系人", "name"),
])
def test_columns_are_found_by_name(column, kind) -> None:
    assert kind_by_name(column).value == kind


@pytest.mark.parametrize("column", ["站点名称", "所属区县", "企业名称", "统一社会信用代码", "成立日期", "AQI"])
def test_other_names_are_not_personal(column) -> None:
    assert kind_by_name(column) is None


@pytest.mark.parametrize("values, kind", [
    (IDS, "id_number"),
    (["13812341234", "15900001111", "18655556666", ""], "phone"),
    (CARDS, "bank_card"),
    (["安徽省六安市金安区梅山南路12号", "六安市裕安区新安镇桃园村3组", "霍山县衡山路8号1栋"], "address"),
    (["王芳", "李强", "欧阳娜娜", "张伟", "陈静"], "name"),
    (["王芳", "李强", "13812341234"], "name"),  # over half is enough
])
def test_columns_are_found_by_content(values, kind) -> None:
    assert kind_by_content(values).value == kind


@pytest.mark.parametrize("values", [
    ["金安区", "霍山县", "叶集区", "金寨县", "舒城县"],  # counties start with surname characters
    ["农村低保", "城市低保"] * 20,  # a category: not varied
    ["0564-3312345", "0564-3323456"],  # landlines
    ["4111111111111112", "6222021234567890"],  # fail Luhn
    ["34150219900101001X", "341502199001010011"],  # wrong check characters
    ["金安区梅山南路与皖西大道交叉口东侧"],  # a place, not a door
    ["王芳", "13812341234", "霍山县"],  # no kind has the majority
    [], ["", "  "],
])
def test_other_content_is_not_personal(values) -> None:
    assert kind_by_content(values) is None


def test_a_declared_none_column_of_identity_numbers_is_recorded_as_personal_and_kept_as_text() -> None:
    lines = ["编号,证件,备注"] + [f"{n},{pid},无" for n, pid in enumerate(IDS, 1)]
    store = SQLiteDatastore(":memory:")
    result = store.import_version("t", io.BytesIO("\n".join(lines).encode()), ImportSpec("csv"))
    assert result.quality["personal_columns"] == {"证件": "id_number"}
    assert {c.name: c.type for c in result.columns}["证件"] is ColumnType.STRING
    assert store.query("t").rows[0]["证件"] == IDS[0]
    store.close()


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a["key"])
def test_every_declared_identifier_of_the_demo_is_also_detected(asset) -> None:
    rows = list(ROW_GENERATORS[asset["rows"]](300))
    detected = detect_personal(rows[0], rows[1:])
    declared = {i["name"]: i["sensitivity"] for i in asset["information_items"]
                if i["sensitivity"] in ("id_number", "name", "phone", "address", "birth_date")}
    assert {c: detected.get(c) for c in declared} == declared
