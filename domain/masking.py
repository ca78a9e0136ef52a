"""De-identification on the way out (BRIEF §6): what a licence tier lets a caller see of each
information item. Display conventions follow hutool: ID 6+4, phone 3+4, the surname kept.

A plan decides per item: ``full`` (as stored), ``masked`` (the convention below for personal
items; non-personal items are not changed) or ``dropped`` (the column is not sent at all).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from domain.metadata import Sensitivity

Mask = Callable[[Any], Any]


def mask_id_number(value: Any) -> Any:
    """341502199001010017 → 341502********0017."""
    if not isinstance(value, str) or len(value) < 11:
        return _suppress(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: Any) -> Any:
    """13812341234 → 138****1234."""
    if not isinstance(value, str) or len(value) < 8:
        return _suppress(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: Any) -> Any:
    """张三 → 张*, 欧阳娜娜 → 欧***: the surname stays, each other character is starred."""
    if not isinstance(value, str) or not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: Any) -> Any:
    """Generalise an address to its county: 六安市金安区梅山南路12号 → 六安市金安区****."""
    if not isinstance(value, str) or not value:
        return value
    for marker in ("区", "县", "市"):
        cut = value.find(marker)
        if 0 <= cut < len(value) - 1:
            return value[:cut + 1] + "****"
    return _suppress(value)


def mask_bank_card(value: Any) -> Any:
    """6222021234567890123 → 622202*********0123."""
    return mask_id_number(value)


def _suppress(value: Any) -> Any:
    return None if value is None else "***"


MASKS: Mapping[Sensitivity, Mask] = {
    Sensitivity.ID_NUMBER: mask_id_number,
    Sensitivity.PHONE: mask_phone,
    Sensitivity.NAME: mask_name,
    Sensitivity.ADDRESS: mask_address,
    Sensitivity.BANK_CARD: mask_bank_card,
    # Sensitive personal information has no partial form worth sending: suppressed.
    Sensitivity.HEALTH: _suppress,
    Sensitivity.FINANCIAL: _suppress,
    Sensitivity.WHEREABOUTS: _suppress,
    Sensitivity.MINOR: _suppress,
}


class RowMasker:
    """Applies one grant's tier to rows; built once per (asset version, grant) and reused.

    :param columns: the column names of the rows, in order
    :param sensitivity: each information item's kind of personal data (missing = none)
    :param mode_of: the grant's mode for an item: ``full``, ``masked`` or ``dropped``
    """

    def __init__(self, columns: Sequence[str], sensitivity: Mapping[str, Sensitivity],
                 mode_of: Callable[[str], str]) -> None:
        self.dropped = tuple(c for c in columns if mode_of(c) == "dropped")
        self.masks = {
            c: MASKS[sensitivity[c]] for c in columns
            if c not in self.dropped and mode_of(c) == "masked"
            and sensitivity.get(c, Sensitivity.NONE) is not Sensitivity.NONE
        }
        self.visible = tuple(c for c in columns if c not in self.dropped)

    @property
    def changes_nothing(self) -> bool:
        return not self.dropped and not self.masks

    @property
    def masked(self) -> tuple[str, ...]:
        return tuple(self.masks)

    def apply_to_tuples(self, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> list[tuple]:
        """Mask value tuples whose values follow ``columns`` (none of them dropped), column by
        column: no dict per row, which bulk exports cannot afford."""
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
