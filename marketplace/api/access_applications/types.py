"""Access application types; they resolve from the entitlements read model's
``access_application`` documents (plain dicts)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import graphene

from domain.access_application import ApplicationStatus as DomainApplicationStatus
from marketplace.api.catalogue.types import DataAsset

ApplicationStatus = graphene.Enum.from_enum(DomainApplicationStatus)


class UseAgreement(graphene.ObjectType):
    """The terms an approval binds: scope, period, never passed on to third parties."""

    scope = graphene.String(required=True)
    period_end = graphene.Date(required=True)
    onward_transfer = graphene.Boolean(required=True)

    @staticmethod
    def resolve_period_end(parent: dict, info: Any) -> date:
        return date.fromisoformat(parent["period_end"])


class AccessApplication(graphene.ObjectType):
    """有条件开放申请: an application for a conditionally open asset."""

    id = graphene.ID(required=True)
    organisation_id = graphene.ID(required=True)
    asset_id = graphene.ID(required=True)
    asset = graphene.Field(DataAsset)
    department_id = graphene.ID(required=True, description="The providing department, who decides.")
    purpose = graphene.String(required=True)
    scenario = graphene.String(required=True)
    security_commitment = graphene.String(required=True)
    submitted_at = graphene.DateTime(required=True)
    submitted_by = graphene.String(required=True)
    deadline = graphene.Date(required=True, description="The last day (China time) to answer.")
    status = graphene.Field(ApplicationStatus, required=True)
    overdue = graphene.Boolean(required=True, description="Unanswered past the deadline.")
    escalated = graphene.Boolean(required=True, description="Moved to the administrators.")
    agreement = graphene.Field(UseAgreement)
    reasons = graphene.List(graphene.NonNull(graphene.String), required=True)
    decided_by = graphene.String()

    @staticmethod
    def resolve_asset(parent: dict, info: Any) -> dict | None:
        return info.context.catalogue_queries.asset_of_record(parent["asset_id"])

    @staticmethod
    def resolve_submitted_at(parent: dict, info: Any) -> datetime:
        return datetime.fromisoformat(parent["submitted_at"])

    @staticmethod
    def resolve_deadline(parent: dict, info: Any) -> date:
        return date.fromisoformat(parent["deadline"])

    @staticmethod
    def resolve_overdue(parent: dict, info: Any) -> bool:
        today = info.context.access_applications.today()
        return parent["status"] in ("submitted", "escalated") and today > date.fromisoformat(
            parent["deadline"])
