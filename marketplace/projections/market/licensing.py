"""Licensing in the entitlements read model: licence templates (with every terms version) and the
plans assets are offered under. Anyone may read them; the licensing view serves them."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from marketplace.projections.market.documents import (
    Changes,
    DocumentReads,
    Handler,
    Row,
)


class LicenceTermsDoc(TypedDict):
    """One version of a licence's terms (the domain's terms record)."""

    version: int
    summary: str
    text: str


class LicenceTemplateDoc(TypedDict):
    """Kind ``template``, keyed by the template's id; ``extra`` is its natural key."""

    id: str
    key: str
    name: str
    kind: str
    #: every version, oldest first: ``terms[-1]`` is the current one
    terms: list[LicenceTermsDoc]
    current_version: int
    created_at: str


class PriceDoc(TypedDict):
    """Whole fen; all zero is a free plan."""

    monthly_fee_fen: int
    per_1k_rows_fen: int
    per_call_fen: int


class QuotasDoc(TypedDict, total=False):
    """Monthly quotas and the rate limit; a missing or null quota is unlimited."""

    rows_per_month: int | None
    calls_per_month: int | None
    rate_limit_per_minute: int | None


class PlanTerms(TypedDict):
    """What a plan offers: shared by the plan's document and the snapshot a subscription keeps."""

    asset_id: str
    name: str
    licence_template_id: str
    price: PriceDoc
    quotas: QuotasDoc
    overage: str
    field_tier: str
    #: information item → masked / full / dropped
    item_overrides: dict[str, str]
    retired: bool


class PlanDoc(PlanTerms):
    """Kind ``plan``, keyed by the plan's id; ``asset`` is the asset, ``extra`` the template."""

    id: str
    defined_at: str


def _template(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Created":
        changes.put("template", key, Row(None, None, e.key, dict(LicenceTemplateDoc(
            id=key, key=e.key, name=e.name, kind=e.kind, terms=[e.terms],
            current_version=e.terms["version"], created_at=at))))
    elif (row := changes.get("template", key)) and name == "TermsPublished":
        row.doc["terms"].append(e.terms)
        row.doc["current_version"] = e.terms["version"]


def _plan(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Defined":
        changes.put("plan", key, Row(None, e.asset_id, e.licence_template_id, dict(PlanDoc(
            id=key, asset_id=e.asset_id, name=e.name, licence_template_id=e.licence_template_id,
            price=e.price, quotas=e.quotas, overage=e.overage, field_tier=e.field_tier,
            item_overrides=e.item_overrides, retired=False, defined_at=at))))
    elif (row := changes.get("plan", key)) and name == "Retired":
        row.doc["retired"] = True


#: The aggregates (by class name) whose events this module handles.
HANDLERS: dict[str, Handler] = {"LicenceTemplate": _template, "Plan": _plan}


class LicensingReads(DocumentReads):
    """Licence templates and plans, typed."""

    def licence_templates(self) -> list[LicenceTemplateDoc]:
        """Every template, by natural key."""
        docs = cast(list[LicenceTemplateDoc], self._select("template"))
        return sorted(docs, key=lambda d: d["key"])

    def licence_template(self, template_id: str) -> LicenceTemplateDoc | None:
        return cast("LicenceTemplateDoc | None", self._get("template", template_id))

    def plans_of(self, asset_id: str) -> list[PlanDoc]:
        """An asset's plans (retired ones too), by name."""
        docs = cast(list[PlanDoc], self._select("plan", asset=asset_id))
        return sorted(docs, key=lambda d: d["name"])

    def plan(self, plan_id: str) -> PlanDoc | None:
        return cast("PlanDoc | None", self._get("plan", plan_id))
