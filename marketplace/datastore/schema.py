"""Column types, the import spec and result, type inference and the per-column converters.

Converters turn a non-empty source cell (always text here: XLSX and JSONL cells are rendered to
text first) into the value stored by both backends: ``int`` for INTEGER, canonical decimal text for
DECIMAL, ISO text for DATE/DATETIME, ``1``/``0`` for BOOLEAN. They are chosen once per column and
assembled into one generated row function, so the hot loop makes no per-cell type decisions.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from domain.calendar import CHINA
from marketplace.datastore.errors import ImportRejected


class ColumnType(str, Enum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


class Semantic(str, Enum):
    CITIZEN_ID = "citizen_id"
    USCC = "uscc"
    MOBILE = "mobile"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    semantic: Semantic | None = None
    key: bool = False
    #: indexed at import (a key, a declared filterable column, or one indexed by default)
    filterable: bool = False

    def __post_init__(self) -> None:
        if self.key and not self.filterable:  # a key's unique index serves its filters
            object.__setattr__(self, "filterable", True)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type.value,
                "semantic": self.semantic.value if self.semantic else None, "key": self.key,
                "filterable": self.filterable}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Column:
        semantic = data.get("semantic")
        key = bool(data.get("key", False))
        # Recorded before filterable columns existed (None, or absent): the keys alone were indexed.
        filterable = data.get("filterable")
        return cls(name=data["name"], type=ColumnType(data["type"]),
                   semantic=Semantic(semantic) if semantic else None, key=key,
                   filterable=key if filterable is None else bool(filterable))


@dataclass(frozen=True)
class ImportSpec:
    format: str
    type_overrides: Mapping[str, ColumnType] = field(default_factory=dict)
    semantics: Mapping[str, Semantic] = field(default_factory=dict)
    key_columns: Sequence[str] = ()
    max_bytes: int | None = None
    #: the columns the publisher declared filterable (indexed at import, with the keys); None:
    #: no declaration, the defaults of ``indexes.default_filterable`` (dates, area columns)
    filterable_columns: Sequence[str] | None = None


@dataclass(frozen=True)
class ImportResult:
    table: str
    columns: tuple[Column, ...]
    row_count: int
    content_hash: str
    encoding: str
    bytes_read: int
    quality: dict


INT64 = 2**63 - 1
_INT = re.compile(r"[+-]?[0-9]+")
_CANONICAL_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
                       r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?")
TRUE_WORDS = frozenset({"true", "是", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "否", "no", "n", "0"})
_INFER_BOOL = ({"true", "false"}, {"是", "否"})


def to_integer(text: str) -> int:
    if not _INT.fullmatch(text):
        raise ValueError(text)
    value = int(text)
    if not -INT64 <= value <= INT64:
        raise ValueError(text)
    return value


def to_decimal(text: str) -> str:
    """Canonical text of an exact decimal: no plus sign, no leading zeros, no exponent, no -0."""
    if _CANONICAL_DECIMAL.fullmatch(text) and not text.startswith("-0"):
        return text
    text = text.strip()
    if not _DECIMAL.fullmatch(text):
        raise ValueError(text)
    number = Decimal(text)
    out = format(number, "f")
    return out[1:] if number == 0 and out.startswith("-") else out


def to_date(text: str) -> str:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(text)
    _dt.date.fromisoformat(text)
    return text


def to_datetime(text: str) -> str:
    """ISO datetime text; values with an offset are converted to China Standard Time (UTC+8)."""
    text = text.strip()
    if not (_DATETIME.fullmatch(text) or _DATE.fullmatch(text)):
        raise ValueError(text)
    value = _dt.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(CHINA).replace(tzinfo=None)
    return value.isoformat()


def to_boolean(text: str) -> int:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return 1
    if word in FALSE_WORDS:
        return 0
    raise ValueError(text)


CONVERTERS: dict[ColumnType, Callable[[str], Any] | None] = {
    ColumnType.STRING: None, ColumnType.INTEGER: to_integer, ColumnType.DECIMAL: to_decimal,
    ColumnType.DATE: to_date, ColumnType.DATETIME: to_datetime, ColumnType.BOOLEAN: to_boolean,
}


def _fits(values: list[str], convert: Callable[[str], Any]) -> bool:
    try:
        for v in values:
            convert(v)
    except ValueError:
        return False
    return True


def infer_type(values: list[str]) -> ColumnType:
    """The narrowest type every non-empty sample value fits; STRING when there are none.

    Integers with a leading zero (codes like 0564 or 007) stay text, so do booleans written in
    mixed vocabularies.
    """
    if not values:
        return ColumnType.STRING
    if all(_INT.fullmatch(v) for v in values):
        if not any(v.lstrip("+-").startswith("0") and len(v.lstrip("+-")) > 1 for v in values) \
                and _fits(values, to_integer):
            return ColumnType.INTEGER
        return ColumnType.STRING
    if all(_DECIMAL.fullmatch(v) for v in values):
        if any(v.lstrip("+-").startswith("0") and v.lstrip("+-")[1:2].isdigit() for v in values):
            return ColumnType.STRING
        return ColumnType.DECIMAL
    if all(_DATE.fullmatch(v) for v in values) and _fits(values, to_date):
        return ColumnType.DATE
    if all(_DATETIME.fullmatch(v) or _DATE.fullmatch(v) for v in values) and _fits(values, to_datetime):
        return ColumnType.DATETIME
    words = {v.strip().lower() for v in values}
    if any(words <= vocabulary for vocabulary in _INFER_BOOL):
        return ColumnType.BOOLEAN
    return ColumnType.STRING


AUTO_SEMANTICS = (("统一社会信用代码", Semantic.USCC), ("信用代码", Semantic.USCC),
                  ("公民身份号码", Semantic.CITIZEN_ID), ("身份证", Semantic.CITIZEN_ID),
                  ("手机", Semantic.MOBILE), ("联系电话", Semantic.MOBILE))


def detect_semantic(name: str) -> Semantic | None:
    for fragment, semantic in AUTO_SEMANTICS:
        if fragment in name:
            return semantic
    return None


def check_header(names: Sequence[Any], line: int = 1) -> list[str]:
    """Header names stripped of surrounding blanks; blank, over-long or repeated names are refused."""
    if len(names) > 1000:
        raise ImportRejected(f"the file has {len(names)} columns, more than the limit of 1000",
                             code="BAD_HEADER", line=line)
    out: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(names, start=1):
        name = "" if raw is None else str(raw).strip()
        if not name:
            raise ImportRejected(f"column {position} has no name in the header", code="BAD_HEADER", line=line)
        if len(name) > 200:
            raise ImportRejected(f"column {position} has a name longer than 200 characters",
                                 code="BAD_HEADER", line=line)
        if name in seen:
            raise ImportRejected(f'the column name "{name}" appears twice in the header',
                                 code="BAD_HEADER", line=line)
        seen.add(name)
        out.append(name)
    return out


def build_row_converter(types: Sequence[ColumnType]) -> Callable[[list[str], int], tuple]:
    """``convert(cells, row_number) -> (row_number, value, ...)``: one generated function per import.

    The generated source holds only column positions and converter names, never data.
    """
    namespace: dict[str, Any] = {}
    parts = []
    for i, column_type in enumerate(types):
        converter = CONVERTERS[column_type]
        if converter is None:
            parts.append(f"r[{i}] or None")
        else:
            namespace[f"c{i}"] = converter
            parts.append(f"c{i}(r[{i}]) if r[{i}] else None")
    source = f"def convert(r, n):\n    return (n, {', '.join(parts)})\n"
    exec(compile(source, "<datastore row converter>", "exec"), namespace)  # noqa: S102
    return namespace["convert"]
