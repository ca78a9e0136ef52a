"""Licensing queries: anyone reads licences and plans; members see their organisation's
subscriptions, administrators any (access applications: ``api.access_applications``)."""

from __future__ import annotations

from typing import Any

import graphene

from domain.actors import Actor, Role
from marketplace.api.auth import require_signed_in
from marketplace.api.licensing import types as t


def organisation_in_scope(info: Any, actor: Actor, organisation_id: str | None) -> str | None:
    """The organisation a member may look at (their current one by default); any for admins;
    None when the caller may not see it."""
    if actor.role is Role.ADMIN:
        return organisation_id
    if actor.role is not Role.MEMBER:
        return None
    wanted = organisation_id or actor.organisation_id
    organisation = info.context.entitlements_view.organisation(wanted) if wanted else None
    return wanted if organisation and actor.user_id in organisation["members"] else None


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
    def resolve_licence_templates(root: Any, info: Any) -> list:
        return info.context.entitlements_view.licence_templates()

    @staticmethod
    def resolve_plans(root: Any, info: Any, asset_id: str, include_retired: bool) -> list:
        plans = info.context.entitlements_view.plans_of(asset_id)
        return plans if include_retired else [p for p in plans if not p["retired"]]

    @staticmethod
    def resolve_subscriptions(root: Any, info: Any, organisation_id: str | None = None) -> list:
        actor = require_signed_in(info)
        organisation = organisation_in_scope(info, actor, organisation_id)
        return info.context.entitlements_view.subscriptions_of(organisation) if organisation else []
