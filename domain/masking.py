"""De-identification on the way out (BRIEF §6): what a licence tier lets a caller see of each
information item, decided for the whole row.

A plan decides per item: ``full`` (as stored), ``masked`` (the forms below for personal items;
non-personal items are not changed) or ``dropped`` (the column is not sent at all). The masked
tier is a promise, not a display filter: for every masked identifier at least 1,000 values stay
consistent with everything the row shows (tests/unit/domain/test_masking_property.py counts
them). hutool's 6+4 identity-number convention hides exactly the birth date, so beside a
visible birth date it hides nothing; the forms here are chosen for the row instead:

========================  ==================================================  ===============
kind                      masked form                                         shows at most
========================  ==================================================  ===============
identity number           the 6-digit region: ``341524************``         6 characters
mobile                    3 + 4 (``138****1234``), only for 11 digits         7 characters
                          starting with 1
bank card                 first 6 + last 4, only for 16-19 digits (Luhn       10 characters
                          leaves >= 10^5 candidates)
name                      the surname and a fixed ``**`` (the given name's    1 character
                          length is not shown): ``张**``
address                   its administrative prefix down to the county        29 characters
                          (``六安市金安区****``), only when more follows it
birth date                the year: ``2010`` — also in a column the tier      4 characters
                          leaves full or a reviewer cleared, whenever the
                          row masks an identity number (the date is the
                          number's middle eight digits)
age                       a 10-year band: ``20-29``                           a band
health, financial,        suppressed: ``***``                                 nothing
whereabouts, minor
========================  ==================================================  ===============

Every function takes any value: ``None`` stays ``None`` (a missing value is not personal data);
anything that does not have the expected shape (wrong length, not text, empty) is suppressed as
``***`` rather than masked by position, so no input shows more than its cap.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable, Mapping, Sequence

from domain.identifiers import is_mobile
from domain.metadata import Sensitivity

Mask = Callable[[Any], Any]
SUPPRESSED = "***"

_ID_CHECK_CHARS = frozenset("0123456789Xx")


def _suppress(value: Any) -> Any:
    return None if value is None else SUPPRESSED


def _id_shape(value: Any) -> bool:
    return (isinstance(value, str) and len(value) == 18 and value[:17].isascii()
            and value[:17].isdigit() and value[17] in _ID_CHECK_CHARS)


def mask_id_number(value: Any) -> Any:
    """341524201006180427 → 341524************: the region only; birth date, sequence (which
    gives the gender) and check character are hidden. Anything but an 18-character number is
    suppressed."""
    return value[:6] + "*" * 12 if _id_shape(value) else _suppress(value)


def mask_phone(value: Any) -> Any:
    """13812341234 → 138****1234 (BRIEF's 3 + 4); anything but a mobile number is suppressed."""
    if isinstance(value, str) and is_mobile(value):
        return value[:3] + "****" + value[7:]
    return _suppress(value)


def mask_bank_card(value: Any) -> Any:
    """6222021234567890123 → 622202*********0123: at least 6 digits hidden, so even with the
    Luhn check 10^5 numbers remain; shorter or non-digit input is suppressed."""
    if (isinstance(value, str) and 16 <= len(value) <= 19 and value.isascii()
            and value.isdigit()):
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return _suppress(value)


def mask_name(value: Any) -> Any:
    """张三 → 张**, 欧阳娜娜 → 欧**: the first character and a fixed ``**``, so the given name's
    length is not shown either; non-text and names shorter than two characters are suppressed."""
    if isinstance(value, str):
        name = value.strip()
        if len(name) >= 2:
            return name[0] + "**"
    return _suppress(value)


# A name part of an administrative division: no division, road or door markers, no digits,
# no ASCII, no blanks. The prefix is (province)(city)(county), e.g. 安徽省 六安市 金安区.
_PART = r"[^\x00-\x7f\s省市区县旗路街巷弄道号栋幢室组村\u3000]"
_ADDRESS_PREFIX = re.compile(
    rf"(?:{_PART}{{2,7}}?(?:省|自治区))?"
    rf"(?:{_PART}{{2,8}}?(?:市|自治州|地区|盟))?"
    rf"{_PART}{{1,7}}?(?:区|县|市|旗)")
ADDRESS_PREFIX_MAX = 29  # 7 + 3 + 8 + 3 + 7 + 1 characters


def mask_address(value: Any) -> Any:
    """Generalise an address to its county: 安徽省六安市金安区梅山南路12号 → 安徽省六安市金安区****.

    The rule is the longest administrative prefix (province, city, county, each optional but
    the last) read from the start; it is kept only when something follows it. An address with
    no such prefix (梅山镇红军路8号), or that is nothing but one (六安市金安区), is suppressed."""
    if isinstance(value, str):
        prefix = _ADDRESS_PREFIX.match(value)
        if prefix is not None and prefix.end() < len(value):
            return prefix.group() + "****"
    return _suppress(value)


_BIRTH_YEAR = re.compile(r"(1[89]\d\d|20\d\d)(?:[^\d].*|\d{4})?", re.DOTALL)


def mask_birth_date(value: Any) -> Any:
    """2010-06-18 → 2010 (also 20100618, 2010/6/18, 2010年6月18日); anything else suppressed."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"{value.year:04d}"
    if isinstance(value, str):
        year = _BIRTH_YEAR.fullmatch(value)
        if year is not None:
            return year.group(1)
    return _suppress(value)


def mask_age(value: Any) -> Any:
    """37 → 30-39: a 10-year band; anything but a whole number of years 0-150 is suppressed."""
    if isinstance(value, str) and 1 <= len(value) <= 3 and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 150:
        low = value // 10 * 10
        return f"{low}-{low + 9}"
    return _suppress(value)


MASKS: Mapping[Sensitivity, Mask] = {
    Sensitivity.ID_NUMBER: mask_id_number,
    Sensitivity.PHONE: mask_phone,
    Sensitivity.NAME: mask_name,
    Sensitivity.ADDRESS: mask_address,
    Sensitivity.BANK_CARD: mask_bank_card,
    Sensitivity.BIRTH_DATE: mask_birth_date,
    Sensitivity.AGE: mask_age,
    # Sensitive personal information has no partial form worth sending: suppressed.
    Sensitivity.HEALTH: _suppress,
    Sensitivity.FINANCIAL: _suppress,
    Sensitivity.WHEREABOUTS: _suppress,
    Sensitivity.MINOR: _suppress,
}


def effective_kinds(declared: Mapping[str, Sensitivity], detected: Mapping[str, Sensitivity],
                    cleared: Mapping[str, Sensitivity]) -> dict[str, Sensitivity]:
    """Each column's kind for masking: what the publisher declared, else what the import
    detected unless a reviewer cleared that detection (default-deny for undeclared personal
    columns). A cleared column is sent as stored, but still counts for what the row reveals:
    pass ``cleared`` to ``RowMasker`` as ``revealed``.

    :param declared: the information items' sensitivities (``none`` counts as not declared)
    :param detected: the kinds the import detected by column name or content
    :param cleared: the detections a reviewer cleared: column → the kind that was cleared
    """
    kinds = {c: k for c, k in detected.items() if cleared.get(c) is not k}
    kinds.update((c, k) for c, k in declared.items() if k is not Sensitivity.NONE)
    return kinds


class RowMasker:
    """Applies one grant's tier to rows; built once per (asset version, grant) and reused.

    Every decision is taken here, once: which columns drop, which mask each masked column
    gets, and which quasi-identifiers must be generalised because the row masks an identifier
    they reveal (a birth date beside an identity number). ``apply`` and ``apply_to_tuples`` then
    only call the chosen functions.

    :param columns: the column names of the rows, in order
    :param sensitivity: each column's kind of personal data (missing = none); see
        ``effective_kinds``
    :param mode_of: the grant's mode for an item: ``full``, ``masked`` or ``dropped`` (anything
        else counts as ``masked``)
    :param revealed: columns sent as stored in every tier although they hold a kind of personal
        data (detections a reviewer cleared): not masked, but they count for what the row shows
    """

    def __init__(self, columns: Sequence[str], sensitivity: Mapping[str, Sensitivity],
                 mode_of: Callable[[str], str],
                 revealed: Mapping[str, Sensitivity] | None = None) -> None:
        modes = {c: mode_of(c) for c in columns}
        self.dropped = tuple(c for c in columns if modes[c] == "dropped")
        self.visible = tuple(c for c in columns if modes[c] != "dropped")
        kinds = {c: sensitivity.get(c, Sensitivity.NONE) for c in self.visible}
        shown_as_stored = {c: k for c, k in (revealed or {}).items()
                           if c in kinds and kinds[c] is Sensitivity.NONE}
        # Quasi-identifiers are generalised with the identifiers they reveal: a birth date is
        # the middle of an identity number, so while the row masks one, every birth-date column
        # shows only the year — whatever the tier says of it, and even when a reviewer cleared
        # it. (Region + exact date + gender, all visible, would leave ~500 numbers.)
        masks_an_id_number = any(kinds[c] is Sensitivity.ID_NUMBER and modes[c] != "full"
                                 for c in self.visible)
        masks: dict[str, Mask] = {}
        for column in self.visible:
            kind = kinds[column]
            if masks_an_id_number and Sensitivity.BIRTH_DATE in (kind, shown_as_stored.get(column)):
                masks[column] = mask_birth_date
            elif modes[column] != "full" and kind is not Sensitivity.NONE:
                masks[column] = MASKS[kind]
        self.masks = masks
        self.kinds = {c: k for c, k in kinds.items() if k is not Sensitivity.NONE}

    @property
    def changes_nothing(self) -> bool:
        return not self.dropped and not self.masks

    @property
    def masked(self) -> tuple[str, ...]:
        return tuple(self.masks)

    def apply_to_tuples(self, rows: Sequence[Sequence[Any]],
                        columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """Mask value tuples whose values follow ``columns`` (none of them dropped), column by
        column: no dict per row, which bulk exports cannot afford."""
        if not columns:  # every column dropped: the rows remain, each empty
            return [() for _ in rows]
        by_column = list(zip(*rows))
        if not by_column:
            return []
        by_column = by_column[:len(columns)]
        for index, column in enumerate(columns):
            mask = self.masks.get(column)
            if mask is not None:
                by_column[index] = tuple(None if v is None else mask(v) for v in by_column[index])
        return list(zip(*by_column))

    def apply(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Mask and drop in place (the rows are the caller's fresh copies); returns them."""
        if self.changes_nothing:
            return rows
        masks, dropped = tuple(self.masks.items()), self.dropped
        for row in rows:
            for column in dropped:
                row.pop(column, None)
            for column, mask in masks:
                value = row.get(column)
                if value is not None:
                    row[column] = mask(value)
        return rows
