"""Licensing types; they resolve from entitlements read-model documents (plain dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene
from graphene.types.generic import GenericScalar

from domain import licensing as lic
from domain.subscription import SubscriptionStatus as DomainSubscriptionStatus
from marketplace.api.catalogue.types import DataAsset

LicenceKind = graphene.Enum.from_enum(lic.LicenceKind, description="开放 open, 商用 commercial, 科研有条件 conditional research.")
Overage = graphene.Enum.from_enum(lic.Overage, description="Past a quota: refuse, or bill the excess.")
FieldTier = graphene.Enum.from_enum(lic.FieldTier, description="Personal-data items leave masked or in full.")
SubscriptionStatus = graphene.Enum.from_enum(DomainSubscriptionStatus)


class LicenceTerms(graphene.ObjectType):
    """One version of a licence's terms; subscribers accept a version."""

    version = graphene.Int(required=True)
    summary = graphene.String(required=True)
    text = graphene.String(required=True)


class LicenceTemplate(graphene.ObjectType):
    """A licence with versioned terms."""

    id = graphene.ID(required=True)
    key = graphene.String(required=True)
    name = graphene.String(required=True)
    kind = graphene.Field(LicenceKind, required=True)
    current_version = graphene.Int(required=True)
    current_terms = graphene.Field(LicenceTerms, required=True)
    terms = graphene.List(graphene.NonNull(LicenceTerms), required=True)

    @staticmethod
    def resolve_current_terms(parent: dict, info: Any) -> dict:
        return parent["terms"][-1]


class Price(graphene.ObjectType):
    """Whole fen (CNY cents); all zero is a free plan."""

    monthly_fee_fen = graphene.Int(required=True)
    per_1k_rows_fen = graphene.Int(required=True)
    per_call_fen = graphene.Int(required=True)


class Quotas(graphene.ObjectType):
    """Monthly quotas and the rate limit; null means unlimited."""

    rows_per_month = graphene.Int()
    calls_per_month = graphene.Int()
    rate_limit_per_minute = graphene.Int()


class Plan(graphene.ObjectType):
    """What one asset costs and allows under one licence template."""

    id = graphene.ID(required=True)
    asset_id = graphene.ID(required=True)
    name = graphene.String(required=True)
    licence_template = graphene.Field(LicenceTemplate)
    price = graphene.Field(Price, required=True)
    quotas = graphene.Field(Quotas, required=True)
    overage = graphene.Field(Overage, required=True)
    field_tier = graphene.Field(FieldTier, required=True)
    item_overrides = GenericScalar(required=True, description="Information item → masked/full/dropped.")
    free = graphene.Boolean(required=True)
    retired = graphene.Boolean(required=True)

    @staticmethod
    def resolve_id(parent: dict, info: Any) -> str:
        return parent.get("id") or parent["plan_id"]

    @staticmethod
    def resolve_licence_template(parent: dict, info: Any) -> dict | None:
        return info.context.licensing_queries.licence_template(parent["licence_template_id"])

    @staticmethod
    def resolve_free(parent: dict, info: Any) -> bool:
        return lic.is_free_price(parent["price"])

    @staticmethod
    def resolve_retired(parent: dict, info: Any) -> bool:
        return bool(parent.get("retired"))


class Subscription(graphene.ObjectType):
    """An organisation's licence grant for one plan; the plan's values as they were accepted."""

    id = graphene.ID(required=True)
    organisation_id = graphene.ID(required=True)
    asset_id = graphene.ID(required=True)
    asset = graphene.Field(DataAsset)
    plan = graphene.Field(Plan, required=True, description="The plan's values when subscribed.")
    terms_version = graphene.Int(required=True, description="The terms version accepted.")
    status = graphene.Field(SubscriptionStatus, required=True)
    reason = graphene.String(description="Why suspended or revoked.")
    application_id = graphene.ID()
    started_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_asset(parent: dict, info: Any) -> dict | None:
        return info.context.catalogue_queries.asset_of_record(parent["asset_id"])

    @staticmethod
    def resolve_started_at(parent: dict, info: Any) -> datetime:
        return datetime.fromisoformat(parent["started_at"])

    @staticmethod
    def resolve_updated_at(parent: dict, info: Any) -> datetime:
        return datetime.fromisoformat(parent["updated_at"])
