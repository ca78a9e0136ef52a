"""Organisation queries: a member's organisations, their API keys and notifications. Who sees
what is the organisations view's (``marketplace.views.organisations``): these resolvers
translate."""

from __future__ import annotations

from typing import Any

import graphene

from marketplace.api.auth import require_signed_in
from marketplace.api.organisations import types as t
from marketplace.views.organisations import ApiKeyDoc, NotificationDoc, OrganisationDoc


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
    def resolve_my_organisations(root: Any, info: Any) -> list[OrganisationDoc]:
        return info.context.organisation_queries.my_organisations(info.context.actor)

    @staticmethod
    def resolve_my_organisation(root: Any, info: Any) -> OrganisationDoc | None:
        return info.context.organisation_queries.my_organisation(info.context.actor)

    @staticmethod
    def resolve_api_keys(root: Any, info: Any,
                         organisation_id: str | None = None) -> list[ApiKeyDoc]:
        actor = require_signed_in(info)
        return info.context.organisation_queries.api_keys(actor, organisation_id)

    @staticmethod
    def resolve_notifications(root: Any, info: Any,
                              organisation_id: str | None = None) -> list[NotificationDoc]:
        actor = require_signed_in(info)
        return info.context.organisation_queries.notifications(actor, organisation_id)
