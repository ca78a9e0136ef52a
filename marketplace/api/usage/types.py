"""Usage types; they resolve from the typed dicts of ``marketplace.views.usage``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import graphene

from marketplace.api.catalogue.types import DataAsset, Department
from marketplace.api.licensing.types import Plan, SubscriptionStatus
from marketplace.views.catalogue_entries import CatalogueEntry, DepartmentEntry
from marketplace.views.usage import DepartmentUsage as DepartmentUsageResult
from marketplace.views.usage import UsageDay as UsageDayResult


def _asset(parent: Mapping[str, Any], info: Any) -> CatalogueEntry | None:
    asset_id = parent.get("asset_id")
    return info.context.usage_queries.asset(asset_id) if asset_id else None


class SubscriptionUsage(graphene.ObjectType):
    """What one subscription used in one period (China-time month), from the live counters:
    exact at the moment of asking, including the request that was served a moment ago."""

    subscription_id = graphene.ID(required=True)
    status = graphene.Field(SubscriptionStatus, required=True)
    asset_id = graphene.ID(required=True)
    asset = graphene.Field(DataAsset)
    plan = graphene.Field(Plan, required=True, description="The plan's values when subscribed.")
    period = graphene.String(required=True, description="`YYYY-MM`, China time.")
    rows_used = graphene.Int(required=True)
    calls_used = graphene.Int(required=True)
    bytes_used = graphene.Float(required=True, description="Bytes served (a Float: may pass 2³¹).")
    rows_quota = graphene.Int(description="Rows a period; null: unlimited.")
    calls_quota = graphene.Int(description="Calls a period; null: unlimited.")
    rows_remaining = graphene.Int(description="null: unlimited.")
    calls_remaining = graphene.Int(description="null: unlimited.")
    reset_at = graphene.DateTime(required=True, description="When the quotas reset: the 1st of "
                                                            "the next month, 00:00 China time.")

    resolve_asset = staticmethod(_asset)


class UsageDay(graphene.ObjectType):
    """Usage of one subject on one asset on one day (China time), once metered."""

    day = graphene.Date(required=True)
    subject = graphene.String(required=True, description="The subscription id, or `anonymous` "
                                                         "for callers without a subscription.")
    organisation_id = graphene.ID()
    asset_id = graphene.ID()
    asset = graphene.Field(DataAsset)
    department_id = graphene.ID()
    rows = graphene.Int(required=True)
    calls = graphene.Int(required=True)
    bytes = graphene.Float(required=True)

    resolve_asset = staticmethod(_asset)

    @staticmethod
    def resolve_day(parent: UsageDayResult, info: Any) -> date:
        return date.fromisoformat(parent["day"])


class AssetUsage(graphene.ObjectType):
    """Usage of one asset over a day range, all subjects together."""

    asset_id = graphene.ID(required=True)
    asset = graphene.Field(DataAsset)
    department_id = graphene.ID()
    rows = graphene.Int(required=True)
    calls = graphene.Int(required=True)
    bytes = graphene.Float(required=True)
    subjects = graphene.Int(required=True, description="Distinct subscriptions (and anonymous "
                                                       "callers) that used it.")

    resolve_asset = staticmethod(_asset)


class DepartmentUsage(graphene.ObjectType):
    """Usage of one department's assets over a day range."""

    department_id = graphene.ID(required=True)
    department = graphene.Field(Department)
    rows = graphene.Int(required=True)
    calls = graphene.Int(required=True)
    bytes = graphene.Float(required=True)
    assets = graphene.Int(required=True, description="Distinct assets used.")

    @staticmethod
    def resolve_department(parent: DepartmentUsageResult, info: Any) -> DepartmentEntry | None:
        return info.context.catalogue_queries.department(parent["department_id"])
