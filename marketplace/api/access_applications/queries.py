"""The access application list: members see their organisation's, publishers those to their
department, administrators all (or one organisation's). Who sees what is the access
applications view's (``marketplace.views.access_applications``): this resolver translates."""

from __future__ import annotations

from typing import Any

import graphene

from marketplace.api.access_applications import types as t
from marketplace.api.auth import require_signed_in
from marketplace.views.access_applications import AccessApplicationDoc


class AccessApplicationQueries(graphene.ObjectType):
    applications = graphene.List(
        graphene.NonNull(t.AccessApplication), required=True, organisation_id=graphene.ID(),
        description="Access applications: a member's organisation's, a publisher's department's, "
                    "or (administrators) all, filtered by organisation if given.")

    @staticmethod
    def resolve_applications(root: Any, info: Any,
                             organisation_id: str | None = None) -> list[AccessApplicationDoc]:
        actor = require_signed_in(info)
        return info.context.access_application_queries.applications(actor, organisation_id)
