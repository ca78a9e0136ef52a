"""Licensing queries: anyone reads licences and plans; members see their organisation's
subscriptions, administrators any (access applications: ``api.access_applications``). Who sees
what is the licensing view's (``marketplace.views.licensing``): these resolvers translate."""

from __future__ import annotations

from typing import Any

import graphene

from marketplace.api.auth import require_signed_in
from marketplace.api.licensing import types as t
from marketplace.views.licensing import LicenceTemplateDoc, PlanDoc, SubscriptionDoc


class LicensingQueries(graphene.ObjectType):
    licence_templates = graphene.List(graphene.NonNull(t.LicenceTemplate), required=True,
                                      description="Every licence template with its terms versions.")
    plans = graphene.List(graphene.NonNull(t.Plan), required=True, asset_id=graphene.ID(required=True),
                          include_retired=graphene.Boolean(default_value=False),
                          description="The plans an asset is offered under.")
    subscriptions = graphene.List(
        graphene.NonNull(t.Subscription), required=True, organisation_id=graphene.ID(),
        description="An organisation's subscriptions (members: their own; administrators: any).")

    @staticmethod
    def resolve_licence_templates(root: Any, info: Any) -> list[LicenceTemplateDoc]:
        return info.context.licensing_queries.licence_templates()

    @staticmethod
    def resolve_plans(root: Any, info: Any, asset_id: str, include_retired: bool) -> list[PlanDoc]:
        return info.context.licensing_queries.plans(asset_id, include_retired=include_retired)

    @staticmethod
    def resolve_subscriptions(root: Any, info: Any,
                              organisation_id: str | None = None) -> list[SubscriptionDoc]:
        actor = require_signed_in(info)
        return info.context.licensing_queries.subscriptions(actor, organisation_id)
