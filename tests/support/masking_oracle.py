"""The counting oracle of the masked tier's promise (BRIEF §6): for every masked identifier in a
row, how many values are consistent with everything the row shows — the identifier's visible
characters, the other visible cells, and the check digits. The property holds when each count
reaches ``ENOUGH``; counting stops there, so a check is fast.

What an attacker is assumed to know, besides the row:

- identity numbers (GB 11643): the check character (computed, so each 17-digit head gives one
  number); a visible birth date or birth year fixes those digits; a visible age band bounds the
  birth year (ages as of ``REFERENCE_YEAR``); a visible 性别 fixes the sequence's parity. A
  starred region is one of the prefecture's codes, present and former (``LUAN_REGIONS``): the
  number keeps the area of *birth*, which the residence county does not determine (people move;
  叶集区 residents born before 2016 carry 霍邱县's code, those born before 2000 the 3424xx ones).
- mobile numbers: 11 digits starting with 1.
- bank cards: the Luhn check (python-stdnum's, an implementation independent of the bank's).
- names: a given name is one or two characters of the 3,755 of GB 2312 level 1; and no other
  visible cell of the row may contain the full name (checked, not counted).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator, Mapping

from stdnum import luhn

from domain.identifiers import LUAN_AREAS, ric_check_char
from domain.metadata import Sensitivity

ENOUGH = 1000
GB2312_LEVEL1 = 3755
REFERENCE_YEAR = 2026
LUAN_REGIONS = tuple(LUAN_AREAS) + ("342401", "342421", "342422", "342423", "342424", "342425",
                                    "342426", "342427")
GENDER_COLUMNS = ("性别",)
IDENTIFIERS = (Sensitivity.ID_NUMBER, Sensitivity.PHONE, Sensitivity.BANK_CARD, Sensitivity.NAME)
_FIRST_DAY, _LAST_DAY = dt.date(1900, 1, 1), dt.date(REFERENCE_YEAR, 12, 31)


def _fits(pattern: str, text: str) -> bool:
    return all(p == "*" or p == t for p, t in zip(pattern, text))


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _birth_constraints(row: Mapping[str, object], kinds: Mapping[str, Sensitivity]
                       ) -> tuple[dt.date, dt.date]:
    """The range of birth dates the row's visible birth-date and age cells allow."""
    first, last = _FIRST_DAY, _LAST_DAY
    for column, value in row.items():
        kind = kinds.get(column) or _kind_by_heading(column)
        if not isinstance(value, str) and not isinstance(value, int):
            continue
        text = str(value)
        if kind is Sensitivity.BIRTH_DATE:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                day = dt.date.fromisoformat(text)
                first, last = max(first, day), min(last, day)
            elif re.fullmatch(r"\d{4}", text):
                first = max(first, dt.date(int(text), 1, 1))
                last = min(last, dt.date(int(text), 12, 31))
        elif kind is Sensitivity.AGE:
            band = re.fullmatch(r"(\d+)-(\d+)", text)
            low, high = (int(band[1]), int(band[2])) if band else (
                (int(text), int(text)) if text.isdigit() else (None, None))
            if low is not None:
                first = max(first, dt.date(REFERENCE_YEAR - high - 1, 1, 1))
                last = min(last, dt.date(REFERENCE_YEAR - low, 12, 31))
    return first, last


def _kind_by_heading(column: str) -> Sensitivity | None:
    """What a column's heading tells an attacker, whatever the bank thinks of it."""
    if "出生" in column or "生日" in column:
        return Sensitivity.BIRTH_DATE
    if "年龄" in column:
        return Sensitivity.AGE
    return None


def _parity(row: Mapping[str, object]) -> int | None:
    for column in GENDER_COLUMNS:
        if row.get(column) == "男":
            return 1
        if row.get(column) == "女":
            return 0
    return None


def id_number_candidates(shown: object, row: Mapping[str, object],
                         kinds: Mapping[str, Sensitivity]) -> Iterator[str]:
    """Every GB 11643 number consistent with the row (lazily)."""
    pattern = shown if isinstance(shown, str) and len(shown) == 18 else "*" * 18
    regions = [pattern[:6]] if "*" not in pattern[:6] else [r for r in LUAN_REGIONS if _fits(pattern, r)]
    first, last = _birth_constraints(row, kinds)
    parity = _parity(row)
    sequences = [f"{s:03d}" for s in range(1000)
                 if (parity is None or s % 2 == parity) and _fits(pattern[14:17], f"{s:03d}")]
    for day in _days(first, last):
        digits = f"{day:%Y%m%d}"
        if not _fits(pattern[6:14], digits):
            continue
        for region, sequence in itertools.product(regions, sequences):
            head = region + digits + sequence
            check = ric_check_char(head)
            if _fits(pattern[17:], check):
                yield head + check


def id_number_consistent(number: str, shown: object, row: Mapping[str, object],
                         kinds: Mapping[str, Sensitivity]) -> bool:
    """Whether ``number`` is one of ``id_number_candidates`` (the same rules, tested directly:
    the oracle's sanity check on the true value)."""
    pattern = shown if isinstance(shown, str) and len(shown) == 18 else "*" * 18
    regions = [pattern[:6]] if "*" not in pattern[:6] else LUAN_REGIONS
    first, last = _birth_constraints(row, kinds)
    parity = _parity(row)
    try:
        day = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return (_fits(pattern, number) and number[:6] in regions and first <= day <= last
            and (parity is None or int(number[14:17]) % 2 == parity)
            and ric_check_char(number[:17]) == number[17])


def count_id_numbers(shown: object, row: Mapping[str, object], kinds: Mapping[str, Sensitivity]) -> int:
    return sum(1 for _ in itertools.islice(id_number_candidates(shown, row, kinds), ENOUGH))


def count_mobiles(shown: object) -> int:
    pattern = shown if isinstance(shown, str) and len(shown) == 11 else "*" * 11
    if pattern[0] not in "*1":
        return 0
    return min(ENOUGH, 10 ** pattern[1:].count("*"))


def _luhn_value(digit: int, doubled: bool) -> int:
    return (digit * 2 - 9 if digit > 4 else digit * 2) if doubled else digit


def count_bank_cards(shown: object, original: object = None) -> int:
    """Fills of the hidden digits that pass Luhn, counted exactly by the sum's remainder (a
    dynamic programme over the hidden positions, not 10^k trials); the true number, if any,
    must pass python-stdnum's check."""
    pattern = shown if isinstance(shown, str) and 16 <= len(shown) <= 19 else "*" * 16
    if isinstance(original, str) and len(original) == len(pattern):
        assert luhn.is_valid(original) and _fits(pattern, original)
    ways = [1] + [0] * 9  # ways[r]: fills so far whose Luhn sum is r mod 10
    for position, ch in enumerate(reversed(pattern)):
        doubled = position % 2 == 1
        digits = range(10) if ch == "*" else [int(ch)]
        step = [0] * 10
        for r, n in enumerate(ways):
            if n:
                for d in digits:
                    step[(r + _luhn_value(d, doubled)) % 10] += n
        ways = step
    return min(ENOUGH, ways[0])


def count_names(shown: object, original: object) -> int:
    if shown == "***" or shown is None:
        return ENOUGH
    if isinstance(shown, str) and len(shown) == 3 and shown.endswith("**"):
        return min(ENOUGH, GB2312_LEVEL1 + GB2312_LEVEL1 ** 2)
    return 1 if shown == original else ENOUGH


def check_row(original: Mapping[str, object], shown: Mapping[str, object],
              kinds: Mapping[str, Sensitivity], masked: tuple[str, ...]) -> dict[str, int]:
    """Counts per masked identifier column of one row, asserting the oracle's own sanity (the
    true value is a candidate) and that no visible cell carries a masked full name."""
    counts: dict[str, int] = {}
    for column in masked:
        kind = kinds.get(column)
        if kind not in IDENTIFIERS or original.get(column) is None:
            continue
        value, seen = original[column], shown.get(column)
        if kind is Sensitivity.ID_NUMBER:
            counts[column] = count_id_numbers(seen, shown, kinds)
            if isinstance(value, str) and value[:6] in LUAN_REGIONS:
                assert id_number_consistent(value, seen, shown, kinds), (
                    f"the oracle rules out the true value of {column}: {value} shown as {seen}")
        elif kind is Sensitivity.PHONE:
            counts[column] = count_mobiles(seen)
        elif kind is Sensitivity.BANK_CARD:
            counts[column] = count_bank_cards(seen, value)
        else:
            counts[column] = count_names(seen, value)
            if isinstance(value, str) and len(value.strip()) >= 2:
                for other, cell in shown.items():
                    assert other == column or not isinstance(cell, str) or value.strip() not in cell, (
                        f"{other} shows the full name masked in {column}")
    return counts
