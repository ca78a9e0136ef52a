"""The masked tier's promise over generated rows: for every masked identifier (identity number,
mobile, bank card, name), at least 1,000 values stay consistent with everything visible in the
same row, check digits applied (the oracle: tests/support/masking_oracle.py), whatever the
grant shows, masks or drops of the row's other columns."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings, strategies as st
from stdnum import luhn

from domain.identifiers import ric_check_char
from domain.masking import RowMasker
from domain.metadata import Sensitivity as S
from support.masking_oracle import ENOUGH, LUAN_REGIONS, REFERENCE_YEAR, check_row

KINDS = {"公民身份号码": S.ID_NUMBER, "姓名": S.NAME, "出生日期": S.BIRTH_DATE, "年龄": S.AGE,
         "户籍地址": S.ADDRESS, "联系电话": S.PHONE, "银行卡号": S.BANK_CARD}
COLUMNS = ("公民身份号码", "姓名", "性别", "出生日期", "年龄", "户籍地址", "所属区县", "联系电话", "银行卡号")
COUNTIES = ("金安区", "裕安区", "叶集区", "霍邱县", "舒城县", "金寨县", "霍山县")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭欧"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
MODES = st.sampled_from(["masked", "full", "dropped"])


@st.composite
def people(draw) -> dict:
    birth = draw(st.dates(dt.date(1930, 1, 1), dt.date(2024, 12, 31)))
    male = draw(st.booleans())
    sequence = 2 * draw(st.integers(0, 499)) + (1 if male else 0)
    head = f"{draw(st.sampled_from(LUAN_REGIONS))}{birth:%Y%m%d}{sequence:03d}"
    card_body = draw(st.text("0123456789", min_size=15, max_size=18))
    county = draw(st.sampled_from(COUNTIES))
    return {
        "公民身份号码": head + ric_check_char(head),
        "姓名": draw(st.sampled_from(SURNAMES)) + draw(st.text(GIVEN, min_size=1, max_size=2)),
        "性别": "男" if male else "女",
        "出生日期": birth.isoformat(),
        "年龄": str(REFERENCE_YEAR - birth.year - draw(st.sampled_from([0, 1]))),
        "户籍地址": f"安徽省六安市{county}梅山南路{draw(st.integers(1, 999))}号",
        "所属区县": county,
        "联系电话": "1" + draw(st.text("0123456789", min_size=10, max_size=10)),
        "银行卡号": card_body + luhn.calc_check_digit(card_body),
    }


@settings(max_examples=150, deadline=None)
@given(person=people(), modes=st.fixed_dictionaries({c: MODES for c in COLUMNS}),
       cleared=st.sets(st.sampled_from(["出生日期", "年龄", "户籍地址"])))
def test_every_masked_identifier_keeps_a_thousand_candidates(person, modes, cleared) -> None:
    """``cleared``: quasi-identifier columns a reviewer cleared, sent as stored in every tier."""
    kinds = {c: k for c, k in KINDS.items() if c not in cleared}
    masker = RowMasker(COLUMNS, kinds, modes.__getitem__, revealed={c: KINDS[c] for c in cleared})
    (shown,) = masker.apply([dict(person)])
    counts = check_row(person, shown, masker.kinds, masker.masked)
    assert all(n >= ENOUGH for n in counts.values()), (shown, counts)
    (as_tuple,) = masker.apply_to_tuples([tuple(person[c] for c in masker.visible)], masker.visible)
    assert dict(zip(masker.visible, as_tuple)) == shown  # the export path shows the same


def test_the_issue_s_reproduction_no_longer_rebuilds_the_number() -> None:
    """341524********0427 beside 出生日期 2010-06-18 was one candidate: the number itself."""
    person = {"公民身份号码": "341524201006180427", "姓名": "李娜", "性别": "女", "出生日期": "2010-06-18"}
    columns = tuple(person)
    for birth_mode in ("masked", "full"):
        masker = RowMasker(columns, KINDS, lambda c: birth_mode if c == "出生日期" else "masked")
        (shown,) = masker.apply([dict(person)])
        assert check_row(person, shown, masker.kinds, masker.masked)["公民身份号码"] >= ENOUGH, shown
