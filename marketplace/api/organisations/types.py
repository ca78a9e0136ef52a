"""Organisation types; they resolve from entitlements read-model documents (plain dicts)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import graphene

from domain.api_key import KEY_PREFIX
from domain.organisation import MemberRole as DomainMemberRole
from domain.organisation import OrganisationKind as DomainOrganisationKind

OrganisationKind = graphene.Enum.from_enum(DomainOrganisationKind, description="A startup or a maker-space (众创空间).")
MemberRole = graphene.Enum.from_enum(DomainMemberRole)


class Member(graphene.ObjectType):
    user_id = graphene.ID(required=True)
    name = graphene.String(required=True)
    role = graphene.Field(MemberRole, required=True)


class Invitation(graphene.ObjectType):
    email = graphene.String(required=True)
    role = graphene.Field(MemberRole, required=True)


class Organisation(graphene.ObjectType):
    """利用主体: a startup or maker-space whose members subscribe and hold API keys."""

    id = graphene.ID(required=True)
    credit_code = graphene.String(required=True, description="统一社会信用代码 (GB 32100).")
    name = graphene.String(required=True)
    kind = graphene.Field(OrganisationKind, required=True)
    members = graphene.List(graphene.NonNull(Member), required=True)
    invitations = graphene.List(graphene.NonNull(Invitation), required=True)
    registered_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_members(parent: dict, info: Any) -> list:
        return [{"user_id": k, **v} for k, v in parent["members"].items()]

    @staticmethod
    def resolve_invitations(parent: dict, info: Any) -> list:
        return [{"email": k, "role": v} for k, v in parent["invitations"].items()]

    @staticmethod
    def resolve_registered_at(parent: dict, info: Any) -> datetime:
        return datetime.fromisoformat(parent["registered_at"])


class MemberAccount(graphene.ObjectType):
    """A member's account (the e-mail address is the login)."""

    id = graphene.ID(required=True)
    email = graphene.String(required=True)
    name = graphene.String(required=True)
    current_organisation_id = graphene.ID()


class ApiKey(graphene.ObjectType):
    """An API key as lists show it: never the secret, which was shown once at creation."""

    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    prefix = graphene.String(required=True, description="The first 8 characters after `dbk_`.")
    display = graphene.String(required=True, description="`dbk_<prefix>…`")
    scopes = graphene.List(graphene.NonNull(graphene.String), required=True)
    expires_at = graphene.DateTime()
    last_used_on = graphene.Date(description="The last day (China time) the key was used.")
    revoked = graphene.Boolean(required=True)
    created_at = graphene.DateTime(required=True)
    created_by = graphene.String(required=True)

    @staticmethod
    def resolve_display(parent: dict, info: Any) -> str:
        return f"{KEY_PREFIX}{parent['prefix']}…"

    @staticmethod
    def resolve_expires_at(parent: dict, info: Any) -> datetime | None:
        return datetime.fromisoformat(parent["expires_at"]) if parent["expires_at"] else None

    @staticmethod
    def resolve_last_used_on(parent: dict, info: Any) -> date | None:
        day = parent.get("last_used_day")
        return date.fromisoformat(day) if day else None

    @staticmethod
    def resolve_created_at(parent: dict, info: Any) -> datetime:
        return datetime.fromisoformat(parent["created_at"])


NotificationKind = graphene.Enum("NotificationKind", [(k.upper(), k) for k in (
    "subscription_activated", "subscription_suspended", "subscription_reinstated",
    "subscription_revoked", "subscription_expired", "application_approved",
    "application_rejected")])


class Notification(graphene.ObjectType):
    """Something the bank tells an organisation: a subscription suspended (unpaid), reinstated,
    revoked (breach) or ended, an access application decided."""

    id = graphene.ID(required=True)
    kind = graphene.Field(NotificationKind, required=True)
    at = graphene.DateTime(required=True)
    asset_id = graphene.ID()
    subscription_id = graphene.ID()
    application_id = graphene.ID()
    reason = graphene.String(description="The reason given (suspension, revocation, rejection).")

    @staticmethod
    def resolve_at(parent: dict, info: Any) -> datetime:
        return datetime.fromisoformat(parent["at"])


def account_dict(account: Any) -> dict:
    return {"id": str(account.id), "email": account.email, "name": account.name,
            "current_organisation_id": account.current_organisation_id}
