"""Organisation queries: a member's organisations and their API keys."""

from __future__ import annotations

from typing import Any

import graphene

from domain.actors import Role
from marketplace.api.auth import require_signed_in
from marketplace.api.licensing.queries import organisation_in_scope
from marketplace.api.organisations import types as t


class OrganisationQueries(graphene.ObjectType):
    my_organisations = graphene.List(graphene.NonNull(t.Organisation), required=True,
                                     description="The organisations you are a member of.")
    my_organisation = graphene.Field(t.Organisation,
                                     description="The organisation you act for (in your token).")
    api_keys = graphene.List(graphene.NonNull(t.ApiKey), required=True,
                             organisation_id=graphene.ID(),
                             description="An organisation's API keys (members: their own).")
    notifications = graphene.List(graphene.NonNull(t.Notification), required=True,
                                  organisation_id=graphene.ID(),
                                  description="What the bank told an organisation, newest first "
                                              "(members: their own).")

    @staticmethod
    def resolve_my_organisations(root: Any, info: Any) -> list:
        actor = info.context.actor
        if actor.role is not Role.MEMBER:
            return []
        return info.context.entitlements_view.organisations_of(actor.user_id)

    @staticmethod
    def resolve_my_organisation(root: Any, info: Any) -> dict | None:
        actor = info.context.actor
        organisation = organisation_in_scope(info, actor, None) if actor.role is Role.MEMBER else None
        return info.context.entitlements_view.organisation(organisation) if organisation else None

    @staticmethod
    def resolve_api_keys(root: Any, info: Any, organisation_id: str | None = None) -> list:
        actor = require_signed_in(info)
        organisation = organisation_in_scope(info, actor, organisation_id)
        return info.context.entitlements_view.api_keys_of(organisation) if organisation else []

    @staticmethod
    def resolve_notifications(root: Any, info: Any, organisation_id: str | None = None) -> list:
        actor = require_signed_in(info)
        organisation = organisation_in_scope(info, actor, organisation_id)
        return info.context.entitlements_view.notifications_of(organisation) if organisation else []
