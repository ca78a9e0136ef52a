"""Catalogue metadata of a data asset, after 《政务信息资源目录编制指南(试行)》 and GB/T 21063.

Values arrive as plain dicts (from the API, the CLI, the demo) and are checked here once; events
store the normalised plain dict (``AssetMetadata.record()``), so the log stays readable and
replaying never re-validates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping

from domain.errors import InvalidInputError, LegalBasisRequiredError


class ResourceClass(str, Enum):
    """类: the first digit of a classification."""

    BASE = "1"  # 基础信息资源
    THEME = "2"  # 主题信息资源
    DEPARTMENT = "3"  # 部门信息资源


class Category(str, Enum):
    """The high-value open categories named by the city plan."""

    ENTERPRISE = "enterprise"
    FINANCE_TAX = "finance_tax"
    POPULATION = "population"
    GEOSPATIAL = "geospatial"
    HEALTH = "health"
    STATISTICS = "statistics"
    SOCIAL_CREDIT = "social_credit"
    TRANSPORT = "transport"
    ENERGY_ENVIRONMENT = "energy_environment"
    OTHER = "other"


class SharingType(str, Enum):
    """共享类型 between departments."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NOT_SHARED = "not_shared"  # 不予共享


class OpenType(str, Enum):
    """开放类型 to society."""

    UNCONDITIONAL = "unconditional"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放
    NOT_OPEN = "not_open"  # 非开放


class UpdateCycle(str, Enum):
    REALTIME = "realtime"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"


class DataType(str, Enum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


class Sensitivity(str, Enum):
    """What kind of personal data an information item holds (BRIEF §6).

    Direct identifiers (ID number, name, phone, address, bank card), the quasi-identifiers that
    reveal parts of them (birth date, age: masking generalises them with the identifiers), and
    sensitive personal information (health, financial, whereabouts, minor).
    """

    NONE = "none"
    ID_NUMBER = "id_number"
    NAME = "name"
    PHONE = "phone"
    ADDRESS = "address"
    BANK_CARD = "bank_card"
    BIRTH_DATE = "birth_date"
    AGE = "age"
    HEALTH = "health"
    FINANCIAL = "financial"
    WHEREABOUTS = "whereabouts"
    MINOR = "minor"


_DIGITS = re.compile(r"\d+")
_RESOURCE_CODE = re.compile(r"^([123])(\d{2})(\d{3})(\d{2})?/(\d{6})$")
MAX_TEXT = 2000
#: Every filterable item is one more index built at import: a bound keeps imports fast.
MAX_FILTERABLE = 16


@dataclass(frozen=True)
class Classification:
    """类 (1 digit) / 项 (2 digits) / 目 (3 digits) / 细目 (2 digits, optional)."""

    class_code: str
    item_code: str
    catalog_code: str
    detail_code: str = ""

    @classmethod
    def parse(cls, value: Mapping[str, Any]) -> "Classification":
        class_code = str(value.get("class_code", ""))
        item_code = str(value.get("item_code", ""))
        catalog_code = str(value.get("catalog_code", ""))
        detail_code = str(value.get("detail_code") or "")
        if class_code not in {c.value for c in ResourceClass}:
            raise InvalidInputError(
                f"class code {class_code!r} must be 1 (base), 2 (theme) or 3 (department resources)",
                field="classification.class_code", code="INVALID_CLASSIFICATION")
        for name, code, width in (("item_code", item_code, 2), ("catalog_code", catalog_code, 3)):
            if len(code) != width or not _DIGITS.fullmatch(code):
                raise InvalidInputError(
                    f"{name.split('_')[0]} code {code!r} must be {width} digits",
                    field=f"classification.{name}", code="INVALID_CLASSIFICATION")
        if detail_code and (len(detail_code) != 2 or not _DIGITS.fullmatch(detail_code)):
            raise InvalidInputError(
                f"detail code {detail_code!r} must be 2 digits or empty",
                field="classification.detail_code", code="INVALID_CLASSIFICATION")
        if item_code == "00" or catalog_code == "000":
            raise InvalidInputError(
                "item and catalog codes start at 01 and 001", field="classification",
                code="INVALID_CLASSIFICATION")
        return cls(class_code, item_code, catalog_code, detail_code)

    @property
    def code(self) -> str:
        """前段码: the classification part of a resource code."""
        return f"{self.class_code}{self.item_code}{self.catalog_code}{self.detail_code}"

    def record(self) -> dict[str, str]:
        return {"class_code": self.class_code, "item_code": self.item_code,
                "catalog_code": self.catalog_code, "detail_code": self.detail_code}


def resource_code(classification: Classification, sequence: int) -> str:
    """信息资源代码 = classification code + "/" + 6-digit sequence code."""
    if not 1 <= sequence <= 999_999:
        raise InvalidInputError(f"sequence {sequence} is out of range 1..999999",
                                code="INVALID_RESOURCE_CODE")
    return f"{classification.code}/{sequence:06d}"


def check_resource_code(code: str, field: str = "resource_code") -> str:
    """Return the code if it is a well-formed resource code, else raise naming the problem."""
    if not isinstance(code, str) or not _RESOURCE_CODE.match(code):
        raise InvalidInputError(
            f"{code!r} is not a resource code: expected classification digits, '/', "
            "and a 6-digit sequence (e.g. 101001/000001)", field=field, code="INVALID_RESOURCE_CODE")
    return code


@dataclass(frozen=True)
class InformationItem:
    """信息项: one column of the resource, with its type and what kind of personal data it is."""

    name: str
    data_type: DataType
    description: str = ""
    sensitivity: Sensitivity = Sensitivity.NONE
    key: bool = False
    #: the publisher expects users to filter or sort by it: indexed at import (with the keys)
    filterable: bool = False

    @property
    def is_personal(self) -> bool:
        return self.sensitivity is not Sensitivity.NONE

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "data_type": self.data_type.value,
                "description": self.description, "sensitivity": self.sensitivity.value,
                "key": self.key, "filterable": self.filterable}


@dataclass(frozen=True)
class SharingAttributes:
    """共享属性: type, condition, mode, and the legal basis a restriction must cite."""

    type: SharingType
    condition: str = ""
    mode: str = ""
    legal_basis: str = ""

    def record(self) -> dict[str, str]:
        return {"type": self.type.value, "condition": self.condition, "mode": self.mode,
                "legal_basis": self.legal_basis}


@dataclass(frozen=True)
class OpenAttributes:
    """开放属性: type, condition, and the legal basis a restriction must cite."""

    type: OpenType
    condition: str = ""
    legal_basis: str = ""

    def record(self) -> dict[str, str]:
        return {"type": self.type.value, "condition": self.condition,
                "legal_basis": self.legal_basis}


def _enum(enum: type[Enum], value: Any, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum)
        raise InvalidInputError(f"{value!r} is not one of: {allowed}", field=field) from None


def _flag(value: Any, field: str) -> bool:
    # Metadata recorded before a flag existed has none (False); None reads as not set.
    if value is None or isinstance(value, bool):
        return bool(value)
    raise InvalidInputError("must be true or false", field=field)


def _text(value: Any, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else value
    if not isinstance(text, str):
        raise InvalidInputError("must be text", field=field)
    text = text.strip()
    if required and not text:
        raise InvalidInputError("is required", field=field)
    if len(text) > limit:
        raise InvalidInputError(f"is longer than {limit} characters", field=field)
    return text


@dataclass(frozen=True)
class AssetMetadata:
    """The catalogue entry of a data asset (everything but its code, provider and versions)."""

    name: str
    classification: Classification
    abstract: str
    format: str
    category: Category
    information_items: tuple[InformationItem, ...]
    sharing: SharingAttributes
    opening: OpenAttributes
    update_cycle: UpdateCycle
    security_level: int
    related_codes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: Mapping[str, Any]) -> "AssetMetadata":
        """Check a plain dict against the catalogue standard; raise on the first problem."""
        name = _text(value.get("name"), "name", required=True, limit=200)
        classification = Classification.parse(value.get("classification") or {})
        abstract = _text(value.get("abstract"), "abstract", required=True)
        fmt = _text(value.get("format"), "format", required=True, limit=40)
        category = _enum(Category, value.get("category"), "category")
        items = cls._parse_items(value.get("information_items") or [])
        sharing_in = value.get("sharing") or {}
        sharing = SharingAttributes(
            type=_enum(SharingType, sharing_in.get("type"), "sharing.type"),
            condition=_text(sharing_in.get("condition"), "sharing.condition"),
            mode=_text(sharing_in.get("mode"), "sharing.mode", limit=40),
            legal_basis=_text(sharing_in.get("legal_basis"), "sharing.legal_basis"),
        )
        if sharing.type is not SharingType.UNCONDITIONAL and not sharing.legal_basis:
            # "Sharing is the principle, not sharing the exception": restrictions cite law.
            raise LegalBasisRequiredError(
                f"a {sharing.type.value.replace('_', '-')} sharing type must cite its legal basis",
                field="sharing.legal_basis")
        opening_in = value.get("opening") or {}
        opening = OpenAttributes(
            type=_enum(OpenType, opening_in.get("type"), "opening.type"),
            condition=_text(opening_in.get("condition"), "opening.condition"),
            legal_basis=_text(opening_in.get("legal_basis"), "opening.legal_basis"),
        )
        if opening.type is not OpenType.UNCONDITIONAL and not opening.legal_basis:
            raise LegalBasisRequiredError(
                f"a {opening.type.value.replace('_', '-')} open type must cite its legal basis",
                field="opening.legal_basis")
        update_cycle = _enum(UpdateCycle, value.get("update_cycle"), "update_cycle")
        level = value.get("security_level")
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 4:
            raise InvalidInputError("security level must be 1, 2, 3 or 4", field="security_level")
        related = tuple(check_resource_code(c, "related_codes") for c in value.get("related_codes") or ())
        keywords = tuple(_text(k, "keywords", required=True, limit=40) for k in value.get("keywords") or ())
        return cls(name, classification, abstract, fmt, category, items, sharing, opening,
                   update_cycle, level, related, keywords)

    @staticmethod
    def _parse_items(raw: Any) -> tuple[InformationItem, ...]:
        if not isinstance(raw, (list, tuple)) or not raw:
            raise InvalidInputError("at least one information item is required",
                                    field="information_items")
        items: list[InformationItem] = []
        seen: set[str] = set()
        for i, item in enumerate(raw):
            field = f"information_items[{i}]"
            if not isinstance(item, Mapping):
                raise InvalidInputError("must be an object", field=field)
            name = _text(item.get("name"), f"{field}.name", required=True, limit=100)
            if name in seen:
                raise InvalidInputError(f"information item {name!r} is listed twice", field=f"{field}.name")
            seen.add(name)
            items.append(InformationItem(
                name=name,
                data_type=_enum(DataType, item.get("data_type"), f"{field}.data_type"),
                description=_text(item.get("description"), f"{field}.description"),
                sensitivity=_enum(Sensitivity, item.get("sensitivity") or "none", f"{field}.sensitivity"),
                key=bool(item.get("key", False)),
                filterable=_flag(item.get("filterable", False), f"{field}.filterable"),
            ))
        if sum(i.filterable for i in items) > MAX_FILTERABLE:
            raise InvalidInputError(f"at most {MAX_FILTERABLE} information items may be filterable "
                                    "(each is an index built at every upload)", field="information_items")
        return tuple(items)

    def record(self) -> dict[str, Any]:
        """The plain-dict form stored in events and read models."""
        return {
            "name": self.name,
            "classification": self.classification.record(),
            "abstract": self.abstract,
            "format": self.format,
            "category": self.category.value,
            "information_items": [i.record() for i in self.information_items],
            "sharing": self.sharing.record(),
            "opening": self.opening.record(),
            "update_cycle": self.update_cycle.value,
            "security_level": self.security_level,
            "related_codes": list(self.related_codes),
            "keywords": list(self.keywords),
        }

    @property
    def personal_items(self) -> tuple[InformationItem, ...]:
        return tuple(i for i in self.information_items if i.is_personal)
