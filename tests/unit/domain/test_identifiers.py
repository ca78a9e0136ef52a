"""GB 11643, GB 32100 and GB 11714 against the brief's test vectors, and python-stdnum as an oracle."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from domain.identifiers import (
    USCC_ALPHABET,
    check_citizen_id,
    check_org_code,
    check_uscc,
    is_mobile,
    org_code_check_char,
    ric_check_char,
    uscc_check_char,
)


@pytest.mark.parametrize("number", ["11010519491231002X", "34052419800101001X", "341502199001010017"])
def test_valid_identity_numbers_pass(number: str) -> None:
    assert check_citizen_id(number) is None


@pytest.mark.parametrize("number", ["340524198001010013", "341502199001010011"])
def test_identity_numbers_with_a_wrong_check_character_are_reported(number: str) -> None:
    problem = check_citizen_id(number)
    assert problem is not None and problem.code == "CHECKSUM"


def test_a_lowercase_x_check_character_is_accepted() -> None:
    assert check_citizen_id("11010519491231002x") is None


def test_an_area_code_newer_than_the_birth_year_is_not_a_reason_to_reject() -> None:
    # 341502 (金安区) dates from 2000; people born in 1990 carry it on re-issued cards.
    assert check_citizen_id("341502199001010017") is None
    assert not stdnum_ric.is_valid("341502199001010017")  # why we do not rely on stdnum here


@pytest.mark.parametrize("number, code", [
    ("3415021990010100", "LENGTH"), ("34150219900101001A", "FORMAT"),
    ("341502199002300010", "BIRTH_DATE"), ("34150A199001010017", "FORMAT"),
])
def test_malformed_identity_numbers_name_their_problem(number: str, code: str) -> None:
    problem = check_citizen_id(number)
    assert problem is not None and problem.code == code


@pytest.mark.parametrize("code", ["91350200776049653A", "91320621MA1MRHG205", "91341500MA2N001160"])
def test_valid_unified_social_credit_codes_pass(code: str) -> None:
    assert check_uscc(code) is None


def test_the_remainder_zero_case_gives_check_character_zero() -> None:
    assert uscc_check_char("91341500MA2N00116") == "0"


@pytest.mark.parametrize("code", ["91320621MA1MRHG207", "91350203M0001QAY9B"])
def test_invalid_unified_social_credit_codes_are_reported_not_raised(code: str) -> None:
    problem = check_uscc(code)
    assert problem is not None and problem.code in ("CHECKSUM", "ORG_CHECKSUM")


@pytest.mark.parametrize("code", ["91350200776O49653A", "9135020077604965", "9135020077604965I3"])
def test_letters_outside_the_alphabet_and_wrong_lengths_are_reported(code: str) -> None:
    problem = check_uscc(code)
    assert problem is not None and problem.code in ("FORMAT", "LENGTH")


def test_a_code_whose_organisation_part_fails_gb_11714_is_reported() -> None:
    body = "91341500" + "MA2N0011" + "7"  # wrong GB 11714 check (the right one is 6)
    code = body + uscc_check_char(body)
    assert check_org_code("MA2N00116") is None
    assert check_uscc(code).code == "ORG_CHECKSUM"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_identity_check_characters_agree_with_stdnum(first17: str) -> None:
    assert ric_check_char(first17) == stdnum_ric.calc_check_digit(first17 + "0")


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_credit_code_check_characters_agree_with_stdnum(first17: str) -> None:
    assert uscc_check_char(first17) == stdnum_uscc.calc_check_digit(first17 + "0")


def test_generated_codes_with_both_checks_validate() -> None:
    rng = random.Random(7)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(500):
        org = "".join(rng.choice(alphabet) for _ in range(8))
        head = "913415" + "02" + org + org_code_check_char(org)
        assert check_uscc(head + uscc_check_char(head)) is None


@pytest.mark.parametrize("number, ok", [("13812341234", True), ("23812341234", False),
                                        ("1381234123", False), ("1381234123a", False)])
def test_mobile_numbers_have_eleven_digits_starting_with_one(number: str, ok: bool) -> None:
    assert is_mobile(number) is ok
