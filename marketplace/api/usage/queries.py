"""Usage queries: GraphQL's side of ``marketplace.views.usage`` (which holds who sees what).

A resolver checks the caller is signed in, asks the view, and turns a view's refusal into the
API's error with the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import graphene

from marketplace.api.auth import require_signed_in
from marketplace.api.errors import ApiError, BadUserInputError, ForbiddenError
from marketplace.api.usage import types as t
from marketplace.views.errors import NotAllowed, QueryRefused
from marketplace.views.usage import (
    AssetUsage,
    DepartmentUsage,
    SubscriptionUsage,
    UsageDay,
)

T = TypeVar("T")


def _ask(info: Any, question: Callable[[], T]) -> T:
    """The view's answer for a signed-in caller (UNAUTHENTICATED otherwise); a refusal becomes
    FORBIDDEN or BAD_USER_INPUT with the view's message (and the argument it names)."""
    require_signed_in(info)
    try:
        return question()
    except QueryRefused as refused:
        raise _api_error(refused) from None


def _api_error(refused: QueryRefused) -> ApiError:
    extra = {"field": refused.field} if refused.field else {}
    if isinstance(refused, NotAllowed):
        return ForbiddenError(refused.message, **extra)
    return BadUserInputError(refused.message, **extra)  # InvalidQuery, or any other refusal


class UsageQueries(graphene.ObjectType):
    usage = graphene.List(
        graphene.NonNull(t.SubscriptionUsage), required=True, period=graphene.String(),
        organisation_id=graphene.ID(),
        description="Usage per subscription of your current organisation in a period (`YYYY-MM`, "
                    "China time; default the current one), from the live quota counters. "
                    "Administrators name the organisation.")
    usage_report = graphene.List(
        graphene.NonNull(t.UsageDay), required=True, from_day=graphene.Date(required=True),
        to_day=graphene.Date(required=True), organisation_id=graphene.ID(), asset_id=graphene.ID(),
        department_id=graphene.ID(),
        description="Metered usage per day, subject and asset (at most 366 days, both ends "
                    "included): members see their organisation's, publishers their department's "
                    "assets', administrators anything.")
    usage_by_asset = graphene.List(
        graphene.NonNull(t.AssetUsage), required=True, from_day=graphene.Date(required=True),
        to_day=graphene.Date(required=True), department_id=graphene.ID(),
        description="Metered usage per asset over a day range, most rows first (administrators; "
                    "publishers get their department's assets).")
    usage_by_department = graphene.List(
        graphene.NonNull(t.DepartmentUsage), required=True, from_day=graphene.Date(required=True),
        to_day=graphene.Date(required=True),
        description="Metered usage per providing department over a day range (administrators).")

    @staticmethod
    def resolve_usage(root: Any, info: Any, period: str | None = None,
                      organisation_id: str | None = None) -> list[SubscriptionUsage]:
        context = info.context
        return _ask(info, lambda: context.usage_queries.usage(
            context.caller, period=period, organisation_id=organisation_id))

    @staticmethod
    def resolve_usage_report(root: Any, info: Any, from_day: date, to_day: date,
                             organisation_id: str | None = None, asset_id: str | None = None,
                             department_id: str | None = None) -> list[UsageDay]:
        context = info.context
        return _ask(info, lambda: context.usage_queries.report(
            context.caller, from_day, to_day, organisation_id=organisation_id,
            asset_id=asset_id, department_id=department_id))

    @staticmethod
    def resolve_usage_by_asset(root: Any, info: Any, from_day: date, to_day: date,
                               department_id: str | None = None) -> list[AssetUsage]:
        context = info.context
        return _ask(info, lambda: context.usage_queries.by_asset(
            context.caller, from_day, to_day, department_id=department_id))

    @staticmethod
    def resolve_usage_by_department(root: Any, info: Any, from_day: date,
                                    to_day: date) -> list[DepartmentUsage]:
        context = info.context
        return _ask(info, lambda: context.usage_queries.by_department(
            context.caller, from_day, to_day))
