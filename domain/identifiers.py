"""National identifiers: GB 11643 citizen identity numbers, GB 32100 unified social credit codes
and the GB 11714 organisation codes inside them.

Written here rather than taken from python-stdnum (which the tests use as an oracle): stdnum's
``cn.ric`` rejects valid numbers whose area code did not exist in the birth year (Lu'an's codes
were 3424xx before 2000) and raises KeyError on some, its ``cn.uscc`` skips the embedded GB 11714
check, and the import path validates a million codes a second-fraction each, so these are
table-driven and allocation-light. See docs/decisions.md.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11714 organisation codes use digits and capital letters; letters count 10..35.
_ORG_VALUE = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class IdentifierProblem:
    """Why an identifier is invalid, in words a data publisher can act on."""

    code: str
    message: str


def ric_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = 0
    for ch, w in zip(first17, _RIC_WEIGHTS):
        total += (ord(ch) - 48) * w
    return _RIC_CHECK[total % 11]


def check_citizen_id(number: str) -> IdentifierProblem | None:
    """Return the problem with a GB 11643 citizen identity number, or None when it is valid.

    The area code is only checked for shape: numbers keep the code of the area at birth, which
    may since have been renamed (old Lu'an numbers start 3424).
    """
    if len(number) != 18:
        return IdentifierProblem("LENGTH", f"an identity number has 18 characters, not {len(number)}")
    head = number[:17]
    if not head.isascii() or not head.isdigit():
        return IdentifierProblem("FORMAT", "the first 17 characters must be digits")
    last = number[17]
    if last == "x":
        last = "X"
    if last not in "0123456789X":
        return IdentifierProblem("FORMAT", "the check character must be a digit or X")
    try:
        _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return IdentifierProblem("BIRTH_DATE", f"{number[6:14]} is not a valid birth date")
    if number[:2] == "00":
        return IdentifierProblem("AREA", "the area code cannot start with 00")
    if ric_check_char(head) != last:
        return IdentifierProblem("CHECKSUM", "the check character does not match (GB 11643)")
    return None


def is_citizen_id(number: str) -> bool:
    return check_citizen_id(number) is None


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character for an organisation code's first 8 characters."""
    total = 0
    for ch, w in zip(first8, _ORG_WEIGHTS):
        total += _ORG_VALUE[ch] * w
    c = 11 - total % 11
    if c == 10:
        return "X"
    if c == 11:
        return "0"
    return str(c)


def check_org_code(code: str) -> IdentifierProblem | None:
    """Return the problem with a 9-character GB 11714 organisation code, or None."""
    if len(code) != 9:
        return IdentifierProblem("LENGTH", f"an organisation code has 9 characters, not {len(code)}")
    body = code[:8]
    if any(ch not in _ORG_VALUE for ch in body):
        return IdentifierProblem("FORMAT", "an organisation code uses digits and capital letters")
    if org_code_check_char(body) != code[8]:
        return IdentifierProblem("ORG_CHECKSUM", "the organisation code check character does not match (GB 11714)")
    return None


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = 0
    for ch, w in zip(first17, _USCC_WEIGHTS):
        total += _USCC_VALUE[ch] * w
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(code: str) -> IdentifierProblem | None:
    """Return the problem with a GB 32100 unified social credit code, or None when it is valid."""
    if len(code) != 18:
        return IdentifierProblem("LENGTH", f"a unified social credit code has 18 characters, not {len(code)}")
    for ch in code:
        if ch not in _USCC_VALUE:
            return IdentifierProblem(
                "FORMAT", f"{ch!r} is not allowed in a unified social credit code (no I, O, S, V, Z)"
            )
    if not code[2:8].isdigit():
        return IdentifierProblem("FORMAT", "characters 3-8 (the area code) must be digits")
    if uscc_check_char(code[:17]) != code[17]:
        return IdentifierProblem("CHECKSUM", "the check character does not match (GB 32100)")
    return check_org_code(code[8:17])


def is_uscc(code: str) -> bool:
    return check_uscc(code) is None


def is_mobile(number: str) -> bool:
    """A mainland mobile number: 11 digits starting with 1."""
    return len(number) == 11 and number[0] == "1" and number.isascii() and number.isdigit()


def luhn_is_valid(digits: str) -> bool:
    """The Luhn (ISO/IEC 7812) check of a bank card number: ASCII digits only."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if position % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


LUAN_AREAS = {
    "341500": "六安市",
    "341502": "金安区",
    "341503": "裕安区",
    "341504": "叶集区",
    "341522": "霍邱县",
    "341523": "舒城县",
    "341524": "金寨县",
    "341525": "霍山县",
}
