"""The generated demo rows: types that fit the catalogue, valid identifiers, determinism, files."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from domain.identifiers import LUAN_AREAS, check_citizen_id, check_uscc, is_mobile
from marketplace.demo import ASSETS, INVALID_USCC_SHARE, ROW_GENERATORS, asset, write_csv
from marketplace.demo.rows import COUNTIES

SAMPLE = 400
# The only columns allowed to be empty ("not applicable"), by asset.
MAY_BE_EMPTY = {("air_quality_daily", "首要污染物"), ("economic_indicators", "同比增长")}
OLD_LU_AN_AREAS = {"342401", "342423", "342425", "342426", "342427"}

_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?")


def fits(data_type: str, value: str) -> bool:
    if data_type == "string":
        return True
    if data_type == "integer":
        return bool(_INTEGER.fullmatch(value))
    if data_type == "decimal":
        return bool(_DECIMAL.fullmatch(value))
    if data_type == "date":
        return bool(_DATE.fullmatch(value)) and dt.date.fromisoformat(value) is not None
    if data_type == "datetime":
        return bool(_DATETIME.fullmatch(value)) and dt.datetime.fromisoformat(value) is not None
    if data_type == "boolean":
        return value in ("true", "false")
    raise AssertionError(f"unknown data type {data_type}")


def rows_of(key: str, n: int, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    generated = ROW_GENERATORS[asset(key)["rows"]](n, seed)
    return next(generated), list(generated)


def column(key: str, name: str, rows: list[list[str]], header: list[str]) -> list[str]:
    index = header.index(name)
    return [row[index] for row in rows]


@pytest.mark.parametrize("meta", ASSETS, ids=lambda a: a["key"])
def test_every_generated_value_fits_its_information_item(meta: dict) -> None:
    header, rows = rows_of(meta["key"], min(SAMPLE, meta["row_count"]))
    assert len(rows) == min(SAMPLE, meta["row_count"])
    for row in rows:
        assert len(row) == len(header)
        for item, value in zip(meta["information_items"], row):
            assert isinstance(value, str)
            if value == "":
                assert (meta["key"], item["name"]) in MAY_BE_EMPTY, item["name"]
                continue
            assert fits(item["data_type"], value), (item["name"], item["data_type"], value)


@pytest.mark.parametrize("meta", ASSETS, ids=lambda a: a["key"])
def test_the_key_columns_identify_each_row(meta: dict) -> None:
    header, rows = rows_of(meta["key"], min(meta["row_count"], 30_000))
    keys = [i for i, item in enumerate(meta["information_items"]) if item["key"]]
    assert keys, "every demo asset declares its key"
    values = [tuple(row[i] for i in keys) for row in rows]
    assert len(set(values)) == len(values)


@pytest.mark.parametrize("meta", ASSETS, ids=lambda a: a["key"])
def test_counties_are_lu_an_counties(meta: dict) -> None:
    header, rows = rows_of(meta["key"], min(SAMPLE, meta["row_count"]))
    for name in ("所属区县", "地区"):
        if name in header:
            assert set(column(meta["key"], name, rows, header)) <= set(COUNTIES) | {"六安市"}


@pytest.mark.parametrize("meta", ASSETS, ids=lambda a: a["key"])
def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(meta: dict) -> None:
    n = min(200, meta["row_count"])
    assert rows_of(meta["key"], n, seed=7) == rows_of(meta["key"], n, seed=7)
    if meta["key"] not in ("urban_employment", "economic_indicators", "air_quality_daily"):
        assert rows_of(meta["key"], n, seed=7)[1] != rows_of(meta["key"], n, seed=8)[1]


def test_enterprise_codes_are_valid_except_a_small_documented_share() -> None:
    header, rows = rows_of("enterprise_registry", 20_000)
    codes = column("enterprise_registry", "统一社会信用代码", rows, header)
    invalid = [code for code in codes if check_uscc(code) is not None]
    assert 0 < len(invalid) <= 3 * INVALID_USCC_SHARE * len(codes)
    assert {check_uscc(code).code for code in invalid} <= {"CHECKSUM", "FORMAT", "LENGTH", "ORG_CHECKSUM"}
    for code in codes:
        if check_uscc(code) is None:
            assert code[:2] in ("91", "92", "93") and code[2:8] in LUAN_AREAS


@pytest.mark.parametrize(("key", "name"), [
    ("medical_institutions", "统一社会信用代码"), ("tax_credit_a", "纳税人识别号"),
    ("social_organizations", "统一社会信用代码"), ("pharmacies", "统一社会信用代码"),
])
def test_codes_outside_the_enterprise_registry_are_all_valid(key: str, name: str) -> None:
    header, rows = rows_of(key, asset(key)["row_count"])
    for code in column(key, name, rows, header):
        assert check_uscc(code) is None, code


def test_the_assets_do_not_share_codes_by_accident() -> None:
    seen: dict[str, str] = {}
    for key, name in (("enterprise_registry", "统一社会信用代码"), ("medical_institutions", "统一社会信用代码"),
                      ("social_organizations", "统一社会信用代码"), ("pharmacies", "统一社会信用代码")):
        header, rows = rows_of(key, 3_000)
        for code in column(key, name, rows, header):
            assert seen.setdefault(code[8:17], key) == key, (code, key, seen[code[8:17]])


@pytest.mark.parametrize("key", ["population_extract", "subsistence_allowance"])
def test_identity_numbers_are_valid_lu_an_numbers_matching_sex_and_birth_date(key: str) -> None:
    header, rows = rows_of(key, 5_000)
    numbers = column(key, "公民身份号码", rows, header)
    areas = Counter(number[:6] for number in numbers)
    assert set(areas) <= set(LUAN_AREAS) | OLD_LU_AN_AREAS
    assert set(areas) & OLD_LU_AN_AREAS, "people born before 2000 keep the old 3424xx codes"
    for row, number in zip(rows, numbers):
        assert check_citizen_id(number) is None, number
        if "出生日期" in header:
            assert number[6:14] == row[header.index("出生日期")].replace("-", "")
            assert int(number[16]) % 2 == (1 if row[header.index("性别")] == "男" else 0)


@pytest.mark.parametrize("key", ["enterprise_registry", "subsistence_allowance"])
def test_mobile_numbers_have_eleven_digits_starting_with_one(key: str) -> None:
    header, rows = rows_of(key, 2_000)
    assert all(is_mobile(number) for number in column(key, "联系电话", rows, header))


def test_the_air_quality_report_covers_every_station_every_day_of_2025() -> None:
    meta = asset("air_quality_daily")
    header, rows = rows_of("air_quality_daily", meta["row_count"])
    dates = {row[header.index("日期")] for row in rows}
    assert min(dates) == "2025-01-01" and max(dates) == "2025-12-31" and len(dates) == 365
    for row in rows:
        aqi = int(row[header.index("AQI")])
        assert (aqi <= 50) == (row[header.index("首要污染物")] == "")
        assert (aqi <= 50) == (row[header.index("空气质量等级")] == "优")


def test_write_csv_streams_the_declared_number_of_rows_as_utf8_by_default(tmp_path: Path) -> None:
    path = write_csv("bus_stops", tmp_path / "out" / "stops.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [i["name"] for i in asset("bus_stops")["information_items"]]
    assert len(rows) == asset("bus_stops")["row_count"] + 1
    assert write_csv("bus_stops", tmp_path / "ten.csv", n=10).read_text("utf-8").count("\n") == 11


def test_the_hospital_list_is_written_in_gb18030_and_is_not_utf8(tmp_path: Path) -> None:
    data = write_csv("medical_institutions", tmp_path / "hospitals.csv").read_bytes()
    text = data.decode("gb18030")
    assert text.startswith("机构名称,统一社会信用代码") and "六安市人民医院" in text
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_an_explicit_encoding_overrides_the_demo_choice(tmp_path: Path) -> None:
    data = write_csv("medical_institutions", tmp_path / "h.csv", n=5, encoding="utf-8").read_bytes()
    assert data.decode("utf-8").startswith("机构名称")


def test_an_unknown_asset_is_a_key_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        write_csv("no_such_asset", tmp_path / "x.csv")


def test_a_hundred_thousand_enterprise_rows_are_written_whole(tmp_path: Path) -> None:
    # How fast is measured (`databank demo` prints its seeding time), not asserted here: a timing
    # assert fails on a busy machine and proves nothing about behaviour.
    path = write_csv("enterprise_registry", tmp_path / "enterprises.csv", n=100_000)
    with path.open(encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 100_001
