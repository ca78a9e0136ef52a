"""What a licence tier lets a caller see of personal data: each mask's form, its edges, and the
cap on how many original characters it shows for any input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from domain.masking import (
    ADDRESS_PREFIX_MAX, SUPPRESSED, RowMasker, effective_kinds, mask_address,
    mask_age, mask_bank_card, mask_birth_date, mask_id_number, mask_name, mask_phone,
)
from domain.metadata import Sensitivity as S


@pytest.mark.parametrize("mask, value, shown", [
    (mask_id_number, "341502199001010017", "341502************"),
    (mask_id_number, "11010519491231002X", "110105************"),
    (mask_id_number, "11010519491231002x", "110105************"),
    (mask_phone, "13812341234", "138****1234"),
    (mask_name, "张三", "张**"), (mask_name, "张小明", "张**"), (mask_name, "欧阳娜娜", "欧**"),
    (mask_bank_card, "6222021234567890", "622202******7890"),
    (mask_bank_card, "6222021234567890123", "622202*********0123"),
    (mask_address, "六安市金安区梅山南路12号", "六安市金安区****"),
    (mask_address, "安徽省六安市金安区梅山南路12号", "安徽省六安市金安区****"),
    (mask_address, "金寨县梅山镇红军路8号", "金寨县****"),
    (mask_address, "六安市梅山南路东城小区3栋", "六安市****"),
    (mask_birth_date, "2010-06-18", "2010"), (mask_birth_date, "20100618", "2010"),
    (mask_birth_date, "2010年6月18日", "2010"),
    (mask_age, 37, "30-39"), (mask_age, "7", "0-9"), (mask_age, 100, "100-109"),
])
def test_masked_forms(mask, value, shown) -> None:
    assert mask(value) == shown


@pytest.mark.parametrize("mask, value", [
    (mask_id_number, "13812341234"),  # a mobile number is not shown 6 + 4
    (mask_id_number, "3415021990010100"), (mask_id_number, "34150219900101001Y"),
    (mask_id_number, 341502199001010017),
    (mask_phone, "12345678"), (mask_phone, "23812341234"), (mask_phone, "138123412345"),
    (mask_phone, 13812341234), (mask_phone, "0564-3312345"),
    (mask_name, 12345), (mask_name, "张"), (mask_name, ""), (mask_name, "   "), (mask_name, True),
    (mask_bank_card, "622202123456789"), (mask_bank_card, "62220212345678901234"),
    (mask_bank_card, "6222 0212 3456 7890"), (mask_bank_card, 6222021234567890),
    (mask_address, "六安市金安区"),  # nothing but its county: no rule to keep part of it
    (mask_address, "梅山镇红军路8号"),  # no district marker
    (mask_address, 12), (mask_address, ""),
    (mask_birth_date, "18/06/2010"), (mask_birth_date, "201006"), (mask_birth_date, 2010),
    (mask_age, True), (mask_age, -1), (mask_age, 151), (mask_age, 37.5), (mask_age, "三十"),
])
def test_what_does_not_have_the_shape_is_suppressed_whole(mask, value) -> None:
    assert mask(value) == SUPPRESSED


@pytest.mark.parametrize("mask", [mask_id_number, mask_phone, mask_name,
                                  mask_bank_card, mask_address, mask_birth_date, mask_age])
def test_a_missing_value_stays_missing(mask) -> None:
    assert mask(None) is None


def _stars_or_prefix_suffix(value: str, shown: str, head: int, tail: int) -> bool:
    """``shown`` is the first ``head`` and last ``tail`` characters of ``value`` around stars."""
    return (len(shown) == len(value) and shown[:head] == value[:head]
            and (tail == 0 or shown[-tail:] == value[-tail:])
            and set(shown[head:len(shown) - tail]) <= {"*"})


def _original_shown(value, shown) -> int:
    """How many characters of the original the masked form shows (stars and the fixed ``**``
    show none)."""
    return 0 if shown in (None, SUPPRESSED) else sum(1 for ch in shown if ch != "*")


# Every input a column can hold: text of 0-20 characters (digits, Han, blanks, X, dashes),
# numbers, booleans, None.
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(alphabet=st.sampled_from("0123456789 X-/年月日省市区县路号张王李六安金寨梅山*"),
            max_size=20),
    st.text(max_size=20),
)


@given(ANY_VALUE)
def test_the_identity_number_shows_at_most_its_region(value) -> None:
    shown = mask_id_number(value)
    assert _original_shown(value, shown) <= 6
    if shown not in (None, SUPPRESSED):
        assert _stars_or_prefix_suffix(value, shown, 6, 0)


@given(ANY_VALUE)
def test_the_mobile_shows_at_most_three_and_four(value) -> None:
    shown = mask_phone(value)
    assert _original_shown(value, shown) <= 7
    if shown not in (None, SUPPRESSED):
        assert len(value) == 11 and value[0] == "1" and _stars_or_prefix_suffix(value, shown, 3, 4)


@given(ANY_VALUE)
def test_the_bank_card_shows_at_most_six_and_four_of_sixteen_or_more(value) -> None:
    shown = mask_bank_card(value)
    assert _original_shown(value, shown) <= 10
    if shown not in (None, SUPPRESSED):
        assert len(value) >= 16 and _stars_or_prefix_suffix(value, shown, 6, 4)


@given(ANY_VALUE)
def test_the_name_shows_at_most_one_character_and_never_its_length(value) -> None:
    shown = mask_name(value)
    assert _original_shown(value, shown) <= 1
    if shown not in (None, SUPPRESSED):
        assert len(shown) == 3 and shown[1:] == "**" and shown[0] == value.strip()[0]


@given(ANY_VALUE)
def test_the_address_shows_at_most_its_administrative_prefix(value) -> None:
    shown = mask_address(value)
    if shown not in (None, SUPPRESSED):
        prefix = shown.removesuffix("****")
        assert value.startswith(prefix) and len(prefix) < len(value)
        assert len(prefix) <= ADDRESS_PREFIX_MAX and prefix[-1] in "区县市旗"
        assert not re.search(r"[\d\s路街号室栋组村]", prefix)


@given(ANY_VALUE)
def test_the_birth_date_shows_at_most_its_year(value) -> None:
    shown = mask_birth_date(value)
    if shown not in (None, SUPPRESSED):
        assert re.fullmatch(r"(18|19|20)\d\d", shown) and str(value).startswith(shown)


@given(ANY_VALUE)
def test_the_age_shows_at_most_its_decade(value) -> None:
    shown = mask_age(value)
    if shown not in (None, SUPPRESSED):
        low, high = map(int, shown.split("-"))
        assert low % 10 == 0 and high == low + 9 and low <= int(value) <= high


def test_a_masked_tier_masks_personal_items_and_leaves_the_rest() -> None:
    masker = RowMasker(["公民身份号码", "姓名", "所属区县"],
                       {"公民身份号码": S.ID_NUMBER, "姓名": S.NAME}, lambda column: "masked")
    rows = masker.apply([{"公民身份号码": "341502199001010017", "姓名": "王芳", "所属区县": "金安区"}])
    assert rows == [{"公民身份号码": "341502************", "姓名": "王**", "所属区县": "金安区"}]


def test_a_full_tier_changes_nothing_and_dropped_items_disappear() -> None:
    modes = {"姓名": "full", "联系电话": "dropped"}
    masker = RowMasker(["姓名", "联系电话"], {"姓名": S.NAME, "联系电话": S.PHONE},
                       lambda column: modes[column])
    assert masker.visible == ("姓名",)
    assert masker.apply([{"姓名": "王芳", "联系电话": "13812341234"}]) == [{"姓名": "王芳"}]


def test_health_data_is_suppressed_when_masked() -> None:
    masker = RowMasker(["诊断"], {"诊断": S.HEALTH}, lambda column: "masked")
    assert masker.apply([{"诊断": "高血压"}]) == [{"诊断": "***"}]


def test_an_unknown_mode_masks_rather_than_shows() -> None:
    masker = RowMasker(["姓名"], {"姓名": S.NAME}, lambda column: "partial")
    assert masker.apply([{"姓名": "王芳"}]) == [{"姓名": "王**"}]


# ---- decided for the row ----------------------------------------------------------------------

POPULATION = ["公民身份号码", "姓名", "性别", "出生日期", "户籍地址"]
KINDS = {"公民身份号码": S.ID_NUMBER, "姓名": S.NAME, "出生日期": S.BIRTH_DATE, "户籍地址": S.ADDRESS}
PERSON = {"公民身份号码": "341524201006180427", "姓名": "李娜", "性别": "女", "出生日期": "2010-06-18",
          "户籍地址": "安徽省六安市金寨县梅山镇红军大道8号"}


def test_the_masked_tier_shows_the_birth_year_beside_the_region_of_the_identity_number() -> None:
    masker = RowMasker(POPULATION, KINDS, lambda column: "masked")
    assert masker.apply([dict(PERSON)]) == [{
        "公民身份号码": "341524************", "姓名": "李**", "性别": "女", "出生日期": "2010",
        "户籍地址": "安徽省六安市金寨县****"}]


def test_a_birth_date_the_tier_leaves_full_shows_only_the_year_beside_a_masked_identity_number() -> None:
    modes = {"出生日期": "full"}
    masker = RowMasker(POPULATION, KINDS, lambda column: modes.get(column, "masked"))
    (row,) = masker.apply([dict(PERSON)])
    assert (row["出生日期"], row["公民身份号码"]) == ("2010", "341524************")
    (exported,) = masker.apply_to_tuples([tuple(PERSON[c] for c in POPULATION)], POPULATION)
    assert exported[:4] == ("341524************", "李**", "女", "2010")


def test_a_birth_date_a_reviewer_cleared_shows_only_the_year_beside_a_masked_identity_number() -> None:
    kinds = {c: k for c, k in KINDS.items() if c != "出生日期"}
    masker = RowMasker(POPULATION, kinds, lambda column: "masked", revealed={"出生日期": S.BIRTH_DATE})
    (row,) = masker.apply([dict(PERSON)])
    assert (row["出生日期"], row["公民身份号码"]) == ("2010", "341524************")


def test_a_birth_date_is_sent_whole_where_the_identity_number_is_full_or_dropped() -> None:
    for id_mode in ("full", "dropped"):
        modes = {"出生日期": "full", "公民身份号码": id_mode}
        masker = RowMasker(POPULATION, KINDS, lambda column: modes.get(column, "masked"))
        assert masker.apply([dict(PERSON)])[0]["出生日期"] == "2010-06-18"


def test_a_dropped_birth_date_leaves_the_region() -> None:
    modes = {"出生日期": "dropped"}
    masker = RowMasker(POPULATION, KINDS, lambda column: modes.get(column, "masked"))
    assert masker.apply([dict(PERSON)])[0]["公民身份号码"] == "341524************"


def test_tuples_and_dicts_are_masked_alike() -> None:
    masker = RowMasker(POPULATION, KINDS, lambda column: "masked")
    (as_dict,) = masker.apply([dict(PERSON)])
    (as_tuple,) = masker.apply_to_tuples([tuple(PERSON[c] for c in POPULATION)], POPULATION)
    assert as_tuple == tuple(as_dict[c] for c in POPULATION)


def test_detected_columns_are_masked_unless_declared_otherwise_or_cleared() -> None:
    kinds = effective_kinds(
        declared={"姓名": S.NAME, "手机": S.NONE, "卡号": S.FINANCIAL},
        detected={"手机": S.PHONE, "证件": S.ID_NUMBER, "卡号": S.BANK_CARD, "地址": S.ADDRESS},
        cleared={"地址": S.ADDRESS, "证件": S.PHONE})
    assert kinds == {"姓名": S.NAME, "手机": S.PHONE, "证件": S.ID_NUMBER, "卡号": S.FINANCIAL}


@pytest.mark.parametrize("age, band", [(0, "0-9"), ("0", "0-9"), (9, "0-9"), (10, "10-19"),
                                       (100, "100-109"), ("100", "100-109"), (150, "150-159"),
                                       (151, SUPPRESSED), (-1, SUPPRESSED), ("1000", SUPPRESSED),
                                       ("０", SUPPRESSED), (True, SUPPRESSED), (37.0, SUPPRESSED)])
def test_an_age_is_a_ten_year_band_from_0_to_150(age, band) -> None:
    assert mask_age(age) == band


def test_a_row_without_a_dropped_column_is_masked_all_the_same() -> None:
    modes = {"出生日期": "dropped"}
    masker = RowMasker(POPULATION, KINDS, lambda column: modes.get(column, "masked"))
    partial = {c: v for c, v in PERSON.items() if c != "出生日期"}
    assert masker.apply([partial])[0]["公民身份号码"] == "341524************"
