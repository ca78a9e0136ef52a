"""Access application mutations: members apply, the providing department decides (and the
administrators, once an application is escalated past its deadline)."""

from __future__ import annotations

from datetime import date
from typing import Any

import graphene

from marketplace.api.access_applications import types as t
from marketplace.api.auth import require_member, require_staff
from marketplace.api.licensing.errors import KNOWN, LicensingError
from marketplace.api.payload import attempt


class AccessApplicationPayload(graphene.ObjectType):
    # No docstring: the published schema gives this payload no description. Its errors are the
    # licensing codes (APPLICATION_REQUIRED, NOT_CONDITIONAL ...): one enum, as published.
    application = graphene.Field(t.AccessApplication)
    errors = graphene.List(graphene.NonNull(LicensingError), required=True)



class SubmitAccessApplication(graphene.Mutation):
    """Apply for access to a conditionally open asset; the providing department answers within
    the configured number of working days."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        purpose = graphene.String(required=True)
        scenario = graphene.String(required=True)
        security_commitment = graphene.String(required=True)
        organisation_id = graphene.ID(description="Defaults to the organisation you act for.")

    Output = AccessApplicationPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, purpose: str, scenario: str,
               security_commitment: str, organisation_id: str | None = None) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: info.context.access_applications.submit_application(
            organisation_id or actor.organisation_id, asset_id, purpose=purpose, scenario=scenario,
            security_commitment=security_commitment, by=actor),
            lambda app: {"application": info.context.access_application_queries.application(
                str(app.id), fresh=True)})


class ApproveAccessApplication(graphene.Mutation):
    """Approve under a use agreement (the providing department; administrators once escalated)."""

    class Arguments:
        application_id = graphene.ID(required=True)
        scope = graphene.String(required=True)
        period_end = graphene.Date(required=True)

    Output = AccessApplicationPayload

    @staticmethod
    def mutate(root: Any, info: Any, application_id: str, scope: str, period_end: date) -> dict:
        actor = require_staff(info)
        return attempt(KNOWN, lambda: info.context.access_applications.approve_application(
            application_id, scope=scope, period_end=period_end, by=actor),
            lambda app: {"application": info.context.access_application_queries.application(
                str(app.id), fresh=True)})


class RejectAccessApplication(graphene.Mutation):
    """Reject with reasons (the providing department; administrators once escalated)."""

    class Arguments:
        application_id = graphene.ID(required=True)
        reasons = graphene.List(graphene.NonNull(graphene.String), required=True)

    Output = AccessApplicationPayload

    @staticmethod
    def mutate(root: Any, info: Any, application_id: str, reasons: list[str]) -> dict:
        actor = require_staff(info)
        return attempt(KNOWN, lambda: info.context.access_applications.reject_application(
            application_id, reasons=reasons, by=actor),
            lambda app: {"application": info.context.access_application_queries.application(
                str(app.id), fresh=True)})


class AccessApplicationMutations(graphene.ObjectType):
    submit_access_application = SubmitAccessApplication.Field()
    approve_access_application = ApproveAccessApplication.Field()
    reject_access_application = RejectAccessApplication.Field()
