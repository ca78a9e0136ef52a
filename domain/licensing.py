"""Licences and plans: the terms under which data leaves the bank, and what it costs.

A licence template (开放 open, 商用 commercial, 科研有条件 conditional research) has versioned
terms: publishing new terms adds a version and never changes an old one, because a subscriber is
bound by the version they accepted. A plan offers one data asset under one template with a price,
monthly quotas, a rate limit, an overage policy and a field tier; subscribers copy the plan's
values when they subscribe (``Plan.record()``), so later changes never reach them.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Mapping, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, InvalidStateError, NotPermittedError, UnknownVersionError
from domain.ids import natural_id

_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MAX_TERMS = 50_000
MAX_SUMMARY = 2000


class LicenceKind(str, Enum):
    OPEN = "open"  # 开放许可: free reuse with attribution
    COMMERCIAL = "commercial"  # 商用许可: paid plans
    CONDITIONAL_RESEARCH = "conditional_research"  # 有条件开放: needs an approved application


class Overage(str, Enum):
    """What happens past a monthly quota: refuse (429 until the period resets) or bill the excess."""

    BLOCK = "block"
    BILL = "bill"


class FieldTier(str, Enum):
    """How personal-data items leave under a plan: masked (BRIEF §6 conventions) or in full."""

    MASKED = "masked"
    FULL = "full"


class ItemMode(str, Enum):
    """A per-information-item override of the plan's field tier."""

    MASKED = "masked"
    FULL = "full"
    DROPPED = "dropped"


PRICE_KEYS = ("monthly_fee_fen", "per_1k_rows_fen", "per_call_fen")
QUOTA_KEYS = ("rows_per_month", "calls_per_month", "rate_limit_per_minute")


class LicenceTemplate(Aggregate):
    """A licence with versioned terms; only data bank administrators manage templates."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return natural_id("licence-template", key)

    @classmethod
    def create(cls, *, key: str, name: str, kind: LicenceKind | str, text: str, summary: str,
               by: Actor) -> "LicenceTemplate":
        """Create a template whose first terms version is ``text``.

        :param key: the stable natural key, e.g. ``"open-cc-by"`` (lower-case letters, digits, '-')
        :param name: the display name, e.g. 六安市公共数据开放许可
        :param kind: open, commercial or conditional_research
        :param text: the full terms of version 1
        :param summary: a short plain-language summary shown beside the accept box
        """
        _check_admin(by, "licence templates")
        key = (key or "").strip().lower()
        if not _KEY.match(key):
            raise InvalidInputError("a licence key is 2 to 40 lower-case letters, digits or '-'",
                                    field="key")
        kind = _enum(LicenceKind, kind, "kind")
        terms = _terms(1, text, summary)
        return cls(key=key, name=_name(name), kind=kind.value, terms=terms, by=by.record())

    @event("Created")
    def __init__(self, key: str, name: str, kind: str, terms: dict[str, Any],
                 by: dict[str, Any]) -> None:
        self.key = key
        self.name = name
        self.kind = kind
        self.terms: list[dict[str, Any]] = [terms]

    @property
    def current_version(self) -> int:
        return len(self.terms)

    @property
    def current_terms(self) -> dict[str, Any]:
        return self.terms[-1]

    def terms_of(self, version: int) -> dict[str, Any]:
        if not 1 <= version <= len(self.terms):
            raise UnknownVersionError(f"this licence has no terms version {version}", field="version")
        return self.terms[version - 1]

    def publish_terms(self, *, text: str, summary: str, by: Actor) -> int:
        """Add the next terms version (existing subscribers keep theirs); returns its number."""
        _check_admin(by, "licence templates")
        terms = _terms(self.current_version + 1, text, summary)
        if terms["text"] == self.current_terms["text"]:
            raise InvalidInputError("the terms are the same as the current version", field="text")
        self._terms_published(terms=terms, by=by.record())
        return self.current_version

    @event("TermsPublished")
    def _terms_published(self, terms: dict[str, Any], by: dict[str, Any]) -> None:
        self.terms.append(terms)


class Plan(Aggregate):
    """What one data asset costs and allows under one licence template."""

    @staticmethod
    def create_id(asset_id: str, name: str) -> UUID:
        return natural_id("plan", f"{asset_id}:{name}")

    @classmethod
    def define(cls, *, asset_id: str, name: str, licence_template_id: str,
               price: Mapping[str, Any], quotas: Mapping[str, Any], overage: Overage | str,
               field_tier: FieldTier | str, item_overrides: Mapping[str, str] | None = None,
               by: Actor) -> "Plan":
        """Define a plan; the name is unique per asset.

        :param price: ``monthly_fee_fen``, ``per_1k_rows_fen``, ``per_call_fen`` — whole fen
            (CNY cents), 0 or missing for none; all zero makes a free plan
        :param quotas: ``rows_per_month``, ``calls_per_month``, ``rate_limit_per_minute`` — a
            positive int, or None/missing for unlimited
        :param overage: ``block`` refuses past the quota; ``bill`` serves and bills the excess
            (needs a per-row or per-call price)
        :param field_tier: ``masked`` or ``full``
        :param item_overrides: information item name → ``masked``/``full``/``dropped``
        """
        _check_admin(by, "plans")
        price_values = _price(price)
        overage = _enum(Overage, overage, "overage")
        if overage is Overage.BILL and not (price_values["per_1k_rows_fen"] or price_values["per_call_fen"]):
            raise InvalidInputError("billing the overage needs a per-row or per-call price",
                                    field="overage")
        return cls(asset_id=str(asset_id), name=_name(name),
                   licence_template_id=str(licence_template_id), price=price_values,
                   quotas=_quotas(quotas), overage=overage.value,
                   field_tier=_enum(FieldTier, field_tier, "field_tier").value,
                   item_overrides=_overrides(item_overrides or {}), by=by.record())

    @event("Defined")
    def __init__(self, asset_id: str, name: str, licence_template_id: str, price: dict[str, int],
                 quotas: dict[str, int | None], overage: str, field_tier: str,
                 item_overrides: dict[str, str], by: dict[str, Any]) -> None:
        self.asset_id = asset_id
        self.name = name
        self.licence_template_id = licence_template_id
        self.price = price
        self.quotas = quotas
        self.overage = overage
        self.field_tier = field_tier
        self.item_overrides = item_overrides
        self.retired = False

    @property
    def is_free(self) -> bool:
        return not any(self.price.values())

    def record(self) -> dict[str, Any]:
        """The plan as plain values, copied into a subscription when it starts."""
        return {"plan_id": str(self.id), "asset_id": self.asset_id, "name": self.name,
                "licence_template_id": self.licence_template_id, "price": dict(self.price),
                "quotas": dict(self.quotas), "overage": self.overage, "field_tier": self.field_tier,
                "item_overrides": dict(self.item_overrides), "retired": self.retired}

    def retire(self, *, reason: str, by: Actor) -> None:
        """Take no new subscriptions; existing subscribers keep their plan."""
        _check_admin(by, "plans")
        if self.retired:
            raise InvalidStateError("the plan is already retired", field="status")
        self._retired(reason=(reason or "").strip()[:MAX_SUMMARY], by=by.record())

    @event("Retired")
    def _retired(self, reason: str, by: dict[str, Any]) -> None:
        self.retired = True


def is_free_price(price: Mapping[str, Any]) -> bool:
    """True when a recorded price charges nothing."""
    return not any(price.get(k) for k in PRICE_KEYS)


# ---- checks ----------------------------------------------------------------------------------

def _check_admin(actor: Actor, what: str) -> None:
    if actor.role is not Role.ADMIN:
        raise NotPermittedError(f"only a data bank administrator manages {what}")


_E = TypeVar("_E", bound=Enum)


def _enum(kind: type[_E], value: Any, field: str) -> _E:
    try:
        return kind(value.value if isinstance(value, Enum) else value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidInputError(f"{field} {value!r} is not one of: {allowed}", field=field) from None


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInputError("a name of 1 to 100 characters is required", field="name")
    return name


def _terms(version: int, text: str, summary: str) -> dict[str, Any]:
    text = (text or "").strip()
    if not text or len(text) > MAX_TERMS:
        raise InvalidInputError(f"the terms text is required (at most {MAX_TERMS} characters)",
                                field="text")
    summary = (summary or "").strip()
    if not summary or len(summary) > MAX_SUMMARY:
        raise InvalidInputError(f"a summary of 1 to {MAX_SUMMARY} characters is required",
                                field="summary")
    return {"version": version, "text": text, "summary": summary}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _price(price: Mapping[str, Any]) -> dict[str, int]:
    unknown = set(price) - set(PRICE_KEYS)
    if unknown:
        raise InvalidInputError(f"unknown price component {sorted(unknown)[0]!r}", field="price")
    values = {}
    for key in PRICE_KEYS:
        value = price.get(key) or 0
        if not _whole(value) or value < 0:
            raise InvalidInputError(f"{key} is a whole number of fen, 0 or more", field=f"price.{key}")
        values[key] = value
    return values


def _quotas(quotas: Mapping[str, Any]) -> dict[str, int | None]:
    unknown = set(quotas) - set(QUOTA_KEYS)
    if unknown:
        raise InvalidInputError(f"unknown quota {sorted(unknown)[0]!r}", field="quotas")
    values: dict[str, int | None] = {}
    for key in QUOTA_KEYS:
        value = quotas.get(key)
        if value is not None and (not _whole(value) or value <= 0):
            raise InvalidInputError(f"{key} is a positive whole number, or empty for unlimited",
                                    field=f"quotas.{key}")
        values[key] = value
    return values


def _overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(overrides, Mapping):  # the API passes any JSON value through
        raise InvalidInputError("item overrides are an object: information item → masked, full or "
                                "dropped", field="item_overrides")
    values = {}
    for item, mode in overrides.items():
        item = (item or "").strip() if isinstance(item, str) else ""
        if not item or len(item) > 100:
            raise InvalidInputError("an override names an information item", field="item_overrides")
        values[item] = _enum(ItemMode, mode, f"item_overrides.{item}").value
    return values
