"""Exactly which problem each bad identifier gets (code and message), at the edges of every rule.

A data publisher reads these messages in the import's quality report, so they are pinned word for
word. The oracles are python-stdnum (``cn.ric``, ``cn.uscc``, ``luhn``) and, for GB 11714, the
check equation itself; where our rules deliberately differ from stdnum the test says why.
Complements test_identifiers.py (the BRIEF §5 vectors); found missing by bench/mutation_bench.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn as stdnum_luhn
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from domain.identifiers import (
    USCC_ALPHABET,
    IdentifierProblem,
    check_citizen_id,
    check_org_code,
    check_uscc,
    is_citizen_id,
    is_uscc,
    luhn_is_valid,
    org_code_check_char,
    ric_check_char,
    uscc_check_char,
)

DIGITS_17 = "the first 17 characters must be digits"
CHECK_CHAR = "the check character must be a digit or X"
RIC_CHECKSUM = IdentifierProblem("CHECKSUM", "the check character does not match (GB 11643)")


def _ric(head: str) -> str:
    """A citizen identity number with the right check character for its 17-digit head."""
    return head + ric_check_char(head)


def _birth(date: str) -> str:
    return _ric("341502" + date + "001")


# --- GB 11643 citizen identity numbers -----------------------------------------------------------

@pytest.mark.parametrize("number, problem", [
    ("", IdentifierProblem("LENGTH", "an identity number has 18 characters, not 0")),
    ("34150219900101001", IdentifierProblem("LENGTH", "an identity number has 18 characters, not 17")),
    ("3415021990010100170", IdentifierProblem("LENGTH", "an identity number has 18 characters, not 19")),
    (" 341502199001010017", IdentifierProblem("LENGTH", "an identity number has 18 characters, not 19")),
    ("34150A199001010017", IdentifierProblem("FORMAT", DIGITS_17)),
    ("３41502199001010017", IdentifierProblem("FORMAT", DIGITS_17)),    # full-width digit
    ("341502199001010０17", IdentifierProblem("FORMAT", DIGITS_17)),    # full-width zero, 16th
    ("3415021990010100²7", IdentifierProblem("FORMAT", DIGITS_17)),   # '²'.isdigit() is True
    ("٣41502199001010017", IdentifierProblem("FORMAT", DIGITS_17)),    # Arabic-Indic three
    ("34150219900101001A", IdentifierProblem("FORMAT", CHECK_CHAR)),
    ("34150219900101001Y", IdentifierProblem("FORMAT", CHECK_CHAR)),
    ("34150219900101001 ", IdentifierProblem("FORMAT", CHECK_CHAR)),
    ("34150219900101001７", IdentifierProblem("FORMAT", CHECK_CHAR)),   # full-width seven
    ("34150219900101001²", IdentifierProblem("FORMAT", CHECK_CHAR)),
])
def test_malformed_identity_numbers_get_their_exact_problem(number: str, problem: IdentifierProblem) -> None:
    assert check_citizen_id(number) == problem
    assert is_citizen_id(number) is False


@pytest.mark.parametrize("date", [
    "19900230",  # 30 February
    "19000229",  # 1900 is not a leap year
    "19900132",  # day 32 (a check reading only the day's last digit would take it)
    "19900100",  # day 0
    "19900001",  # month 0
    "19901301",  # month 13
    "00000101",  # year 0 does not exist
])
def test_impossible_birth_dates_are_named_in_the_problem(date: str) -> None:
    assert check_citizen_id(_birth(date)) == IdentifierProblem("BIRTH_DATE", f"{date} is not a valid birth date")


@pytest.mark.parametrize("date", [
    "20000229",  # 2000 is a leap year (a check reading the year as "000" would refuse it)
    "19900110", "19900131", "19901231", "19900101",
    "19000101",
    # The rule is the shape of a date only, as in stdnum's get_birth_date: an implausible year
    # such as 0999 is accepted (BRIEF §5 sets no range; the quality report is not an age check).
    "09990101",
])
def test_possible_birth_dates_at_the_edges_are_accepted(date: str) -> None:
    number = _birth(date)
    assert check_citizen_id(number) is None
    assert is_citizen_id(number) is True
    assert stdnum_ric.get_birth_date(number) == dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))


def test_an_area_code_starting_with_00_is_refused_and_01_is_not() -> None:
    assert check_citizen_id(_ric("00150219900101001")) == IdentifierProblem(
        "AREA", "the area code cannot start with 00")
    assert check_citizen_id(_ric("01150219900101001")) is None
    assert check_citizen_id(_ric("10000019900101001")) is None
    # Checks run in order: an impossible date is reported before the area code.
    assert check_citizen_id(_ric("00150219900230001")).code == "BIRTH_DATE"


@pytest.mark.parametrize("number", ["340524198001010013", "341502199001010011", "110105194912310021"])
def test_a_wrong_check_character_gets_the_checksum_problem(number: str) -> None:
    assert check_citizen_id(number) == RIC_CHECKSUM
    assert is_citizen_id(number) is False


def test_the_check_character_x_is_accepted_in_either_case_only_where_it_is_right() -> None:
    assert is_citizen_id("11010519491231002X") and is_citizen_id("11010519491231002x")
    assert check_citizen_id("110105194912310021") == RIC_CHECKSUM
    assert check_citizen_id("34150219900101001x") == RIC_CHECKSUM  # right character is 7


@pytest.mark.parametrize("head, check", [
    ("11010519491231002", "X"),  # remainder 2
    ("34150219900101001", "7"),
])
def test_ric_check_characters_at_the_edges_of_the_table(head: str, check: str) -> None:
    assert ric_check_char(head) == check == stdnum_ric.calc_check_digit(head + "?")


def _remainder_zero_head() -> str:
    """A 17-digit head whose weighted sum is 0 mod 11: check character "1", the table's first."""
    for seq in range(1000):
        head = f"34150219900101{seq:03d}"
        if sum(int(d) * w for d, w in zip(head, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))) % 11 == 0:
            return head
    raise AssertionError("no sequence number gives remainder 0")


def test_the_remainder_zero_identity_number_ends_in_1() -> None:
    head = _remainder_zero_head()
    assert ric_check_char(head) == "1" == stdnum_ric.calc_check_digit(head + "?")
    assert is_citizen_id(head + "1")


_dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
_area = st.text(alphabet="0123456789", min_size=6, max_size=6)
_seq = st.text(alphabet="0123456789", min_size=3, max_size=3)


def _stdnum_ric_valid_apart_from_area(number: str) -> bool:
    """stdnum's checks minus its birth-place lookup, which BRIEF §5 tells us not to apply."""
    try:
        stdnum_ric.get_birth_date(number)
    except ValidationError:
        return False
    return number[-1].upper() == stdnum_ric.calc_check_digit(number.upper())


@given(_area, _dates, _seq, st.sampled_from("0123456789Xx"))
def test_identity_numbers_agree_with_stdnum_except_for_the_birth_place(
        area: str, born: dt.date, seq: str, last: str) -> None:
    number = f"{area}{born.year:04d}{born.month:02d}{born.day:02d}{seq}{last}"
    expected = _stdnum_ric_valid_apart_from_area(number) and not area.startswith("00")
    assert is_citizen_id(number) is expected
    if not expected:
        assert check_citizen_id(number).code in {"CHECKSUM", "AREA"}


@given(st.text(alphabet="0123456789Xx-²١１ A", max_size=20))
def test_any_text_gets_a_verdict_and_valid_ones_satisfy_stdnum(text: str) -> None:
    problem = check_citizen_id(text)
    assert problem is None or problem.code in {"LENGTH", "FORMAT", "BIRTH_DATE", "AREA", "CHECKSUM"}
    if problem is None:
        assert _stdnum_ric_valid_apart_from_area(text)


@given(_dates.filter(lambda d: d.year >= 1000), _seq, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_changed_character_of_a_valid_identity_number_is_caught(
        born: dt.date, seq: str, position: int, replacement: str) -> None:
    number = _ric("341524" + born.strftime("%Y%m%d") + seq)
    changed = number[:position] + replacement + number[position + 1:]
    if changed != number:
        assert check_citizen_id(changed) is not None


# --- GB 11714 organisation codes -----------------------------------------------------------------

ORG_FORMAT = IdentifierProblem("FORMAT", "an organisation code uses digits and capital letters")
ORG_CHECKSUM = IdentifierProblem("ORG_CHECKSUM",
                                 "the organisation code check character does not match (GB 11714)")


@pytest.mark.parametrize("code, problem", [
    ("", IdentifierProblem("LENGTH", "an organisation code has 9 characters, not 0")),
    ("MA2N0011", IdentifierProblem("LENGTH", "an organisation code has 9 characters, not 8")),
    ("MA2N001160", IdentifierProblem("LENGTH", "an organisation code has 9 characters, not 10")),
    ("ma2n00116", ORG_FORMAT),
    ("MA2N-0116", ORG_FORMAT),
    ("MA2N0０116", ORG_FORMAT),
    ("MA2N00117", ORG_CHECKSUM),
    ("MA2N0011-", ORG_CHECKSUM),  # the check character is compared, not shape-checked
    ("00000006x", ORG_CHECKSUM),  # unlike GB 11643, no lowercase x
    ("000000001", ORG_CHECKSUM),
])
def test_bad_organisation_codes_get_their_exact_problem(code: str, problem: IdentifierProblem) -> None:
    assert check_org_code(code) == problem


@pytest.mark.parametrize("code", [
    "MA2N00116", "776049653",
    "000000000",  # remainder 0: c = 11 becomes "0"
    "00000006X",  # remainder 1: c = 10 becomes "X"
    "IOSVZ000" + org_code_check_char("IOSVZ000"),  # GB 11714 itself allows I O S V Z
])
def test_organisation_codes_pass_including_both_special_check_characters(code: str) -> None:
    assert check_org_code(code) is None


_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(st.text(alphabet=_ORG_ALPHABET, min_size=8, max_size=8))
def test_organisation_check_characters_satisfy_the_gb_11714_equation(body: str) -> None:
    check = org_code_check_char(body)
    total = sum(_ORG_ALPHABET.index(ch) * w for ch, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2)))
    assert check in "0123456789X"
    assert (total + (10 if check == "X" else int(check))) % 11 == 0
    assert check_org_code(body + check) is None


# --- GB 32100 unified social credit codes --------------------------------------------------------

USCC_CHECKSUM = IdentifierProblem("CHECKSUM", "the check character does not match (GB 32100)")
AREA_DIGITS = IdentifierProblem("FORMAT", "characters 3-8 (the area code) must be digits")


def _uscc(head8: str, org8: str) -> str:
    head = head8 + org8 + org_code_check_char(org8)
    return head + uscc_check_char(head)


def _not_allowed(ch: str) -> IdentifierProblem:
    return IdentifierProblem("FORMAT", f"{ch!r} is not allowed in a unified social credit code (no I, O, S, V, Z)")


@pytest.mark.parametrize("code, problem", [
    ("", IdentifierProblem("LENGTH", "a unified social credit code has 18 characters, not 0")),
    ("91341500MA2N00116", IdentifierProblem("LENGTH", "a unified social credit code has 18 characters, not 17")),
    ("91341500MA2N0011600", IdentifierProblem("LENGTH", "a unified social credit code has 18 characters, not 19")),
    ("91341500MA2N0O1160", _not_allowed("O")),
    ("91341500MA2N00116I", _not_allowed("I")),
    ("91341500ma2n001160", _not_allowed("m")),
    ("９1341500MA2N001160", _not_allowed("９")),
    ("91341500MA2N 01160", _not_allowed(" ")),
    (_uscc("91A41500", "MA2N0011"), AREA_DIGITS),  # third character
    (_uscc("9134150A", "MA2N0011"), AREA_DIGITS),  # eighth character
    ("91341500MA2N001161", USCC_CHECKSUM),
    ("91320621MA1MRHG207", USCC_CHECKSUM),
    ("91350203M0001QAY9B", USCC_CHECKSUM),  # real-world shape: reported, not raised
    # Right by GB 32100, but the organisation code's own check (GB 11714: 6) says 7.
    ("91341500MA2N00117" + uscc_check_char("91341500MA2N00117"), ORG_CHECKSUM),
])
def test_bad_credit_codes_get_their_exact_problem(code: str, problem: IdentifierProblem) -> None:
    assert check_uscc(code) == problem
    assert is_uscc(code) is False


@pytest.mark.parametrize("code", [
    "91350200776049653A", "91320621MA1MRHG205", "91341500MA2N001160",
    # The first two characters (registration authority, organisation type) may be letters in
    # GB 32100, e.g. Y (other authorities) and N (agricultural bodies); stdnum demands digits.
    _uscc("Y1341500", "MA2N0011"), _uscc("N2341502", "MA2N0011"),
])
def test_valid_credit_codes_pass(code: str) -> None:
    assert check_uscc(code) is None
    assert is_uscc(code) is True
    assert stdnum_uscc.is_valid(code) is code[:2].isdigit()


@given(st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2),
       st.text(alphabet="0123456789", min_size=6, max_size=6),
       st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8),
       st.sampled_from(USCC_ALPHABET))
def test_credit_codes_agree_with_stdnum_plus_the_gb_11714_check(
        kind: str, area: str, org8: str, last: str) -> None:
    code = "91" + area + org8 + org_code_check_char(org8) + last
    assert is_uscc(code) is stdnum_uscc.is_valid(code)
    # Our own leading characters (stdnum would refuse letters there): the checksum still decides.
    lettered = kind + code[2:]
    assert is_uscc(lettered) is (stdnum_uscc.calc_check_digit(lettered[:17]) == last)


@given(st.text(alphabet=USCC_ALPHABET + "IOSVZa-１ ", max_size=20))
def test_any_text_gets_a_credit_code_verdict_never_an_exception(text: str) -> None:
    problem = check_uscc(text)
    assert problem is None or problem.code in {"LENGTH", "FORMAT", "CHECKSUM", "ORG_CHECKSUM"}
    if problem is None:
        assert stdnum_uscc.is_valid(text) or not text[:2].isdigit()
        assert check_org_code(text[8:17]) is None


@given(st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_any_single_changed_character_of_a_valid_credit_code_is_caught(
        org8: str, position: int, replacement: str) -> None:
    code = _uscc("91341502", org8)
    changed = code[:position] + replacement + code[position + 1:]
    if changed != code:
        assert check_uscc(changed) is not None


# --- Luhn (bank card numbers) --------------------------------------------------------------------

@pytest.mark.parametrize("digits, ok", [
    ("", False), ("0", True), ("18", True), ("10", False),
    ("4111111111111111", True), ("4111111111111112", False),
    ("6222021234567890120", None), ("411111111111111１", False), ("41111111111111²1", False),
    ("4111 1111 1111 1111", False), ("-4111111111111111", False),
    # Non-digits whose code points happen to give a Luhn sum of 0 mod 10: only the shape check
    # (ASCII and digits, both required) refuses them.
    ("411111111111112１", False), ("411111111111116²", False),
    ("411111111111119 ", False), ("411111111111113A", False),
])
def test_luhn_on_card_numbers_and_edges(digits: str, ok: bool | None) -> None:
    expected = stdnum_luhn.is_valid(digits) if ok is None else ok
    assert luhn_is_valid(digits) is expected


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_luhn_agrees_with_stdnum_on_digit_strings(digits: str) -> None:
    assert luhn_is_valid(digits) is stdnum_luhn.is_valid(digits)
    # And a check digit computed by stdnum always satisfies ours.
    assert luhn_is_valid(digits + stdnum_luhn.calc_check_digit(digits))
