"""The access application list: members see their organisation's, publishers those to their
department, administrators all (or one organisation's)."""

from __future__ import annotations

from typing import Any

import graphene

from domain.actors import Role
from marketplace.api.access_applications import types as t
from marketplace.api.auth import require_signed_in
from marketplace.api.licensing.queries import organisation_in_scope


class AccessApplicationQueries(graphene.ObjectType):
    applications = graphene.List(
        graphene.NonNull(t.AccessApplication), required=True, organisation_id=graphene.ID(),
        description="Access applications: a member's organisation's, a publisher's department's, "
                    "or (administrators) all, filtered by organisation if given.")

    @staticmethod
    def resolve_applications(root: Any, info: Any, organisation_id: str | None = None) -> list:
        actor = require_signed_in(info)
        view = info.context.entitlements_view
        if actor.role is Role.PUBLISHER:
            return view.access_applications(department_id=actor.department_id or "-")
        if actor.role is Role.ADMIN:
            return view.access_applications(organisation_id=organisation_id)
        organisation = organisation_in_scope(info, actor, organisation_id)
        return view.access_applications(organisation_id=organisation) if organisation else []
