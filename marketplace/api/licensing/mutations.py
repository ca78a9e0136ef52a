"""Licensing mutations: licence templates and plans (administrators), subscribing (members),
revocation (access applications: ``api.access_applications``)."""

from __future__ import annotations

from typing import Any

import graphene

from marketplace.api.auth import require_member, require_staff
from marketplace.api.licensing import types as t
from marketplace.api.licensing.errors import KNOWN, LicensingError
from marketplace.api.payload import attempt, plain


def _payload(name: str, field: str, type_: Any) -> type[graphene.ObjectType]:
    return type(name, (graphene.ObjectType,), {
        field: graphene.Field(type_),
        "errors": graphene.List(graphene.NonNull(LicensingError), required=True)})


LicenceTemplatePayload = _payload("LicenceTemplatePayload", "licence_template", t.LicenceTemplate)
PlanPayload = _payload("PlanPayload", "plan", t.Plan)
SubscriptionPayload = _payload("SubscriptionPayload", "subscription", t.Subscription)



class PriceInput(graphene.InputObjectType):
    monthly_fee_fen = graphene.Int(default_value=0)
    per_1k_rows_fen = graphene.Int(default_value=0)
    per_call_fen = graphene.Int(default_value=0)


class QuotasInput(graphene.InputObjectType):
    rows_per_month = graphene.Int(description="Null for unlimited.")
    calls_per_month = graphene.Int()
    rate_limit_per_minute = graphene.Int()


class CreateLicenceTemplate(graphene.Mutation):
    """Create a licence template with its first terms version (administrators)."""

    class Arguments:
        key = graphene.String(required=True)
        name = graphene.String(required=True)
        kind = t.LicenceKind(required=True)
        text = graphene.String(required=True)
        summary = graphene.String(required=True)

    Output = LicenceTemplatePayload

    @staticmethod
    def mutate(root: Any, info: Any, kind: Any, **fields: Any) -> dict:
        actor = require_staff(info)
        return attempt(KNOWN, lambda: info.context.licensing.create_licence_template(
            kind=plain(kind), by=actor, **fields),
            lambda tpl: {"licence_template": info.context.licensing_queries.licence_template(
                str(tpl.id), fresh=True)})


class PublishLicenceTerms(graphene.Mutation):
    """Publish the next terms version; existing subscribers keep the version they accepted."""

    class Arguments:
        template_id = graphene.ID(required=True)
        text = graphene.String(required=True)
        summary = graphene.String(required=True)

    Output = LicenceTemplatePayload

    @staticmethod
    def mutate(root: Any, info: Any, template_id: str, text: str, summary: str) -> dict:
        actor = require_staff(info)
        return attempt(KNOWN, lambda: info.context.licensing.publish_terms(
            template_id, text=text, summary=summary, by=actor),
            lambda tpl: {"licence_template": info.context.licensing_queries.licence_template(
                str(tpl.id), fresh=True)})


class DefinePlan(graphene.Mutation):
    """Offer a published asset under a licence template: price, quotas, overage, field tier."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        name = graphene.String(required=True)
        licence_template_id = graphene.ID(required=True)
        price = PriceInput(required=True)
        quotas = QuotasInput(required=True)
        overage = t.Overage(required=True)
        field_tier = t.FieldTier(required=True)
        item_overrides = graphene.types.generic.GenericScalar(
            description="Information item name → MASKED, FULL or DROPPED.")

    Output = PlanPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, name: str, licence_template_id: str,
               price: Any, quotas: Any, overage: Any, field_tier: Any,
               item_overrides: dict | None = None) -> dict:
        actor = require_staff(info)
        overrides = ({k: str(v).lower() for k, v in item_overrides.items()}
                     if isinstance(item_overrides, dict) else item_overrides)  # the domain refuses
        return attempt(KNOWN, lambda: info.context.licensing.define_plan(
            asset_id=asset_id, name=name, licence_template_id=licence_template_id,
            price=plain(price), quotas=plain(quotas), overage=plain(overage),
            field_tier=plain(field_tier), item_overrides=overrides, by=actor),
            lambda plan: {"plan": info.context.licensing_queries.plan(str(plan.id), fresh=True)})


class RetirePlan(graphene.Mutation):
    """Take no new subscriptions on a plan (subscribers keep theirs)."""

    class Arguments:
        plan_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    Output = PlanPayload

    @staticmethod
    def mutate(root: Any, info: Any, plan_id: str, reason: str) -> dict:
        actor = require_staff(info)
        return attempt(KNOWN, lambda: info.context.licensing.retire_plan(
            plan_id, reason=reason, by=actor),
            lambda plan: {"plan": info.context.licensing_queries.plan(str(plan.id), fresh=True)})


class Subscribe(graphene.Mutation):
    """Subscribe your organisation to a plan, accepting the licence's current terms version.
    A conditionally open asset needs your approved access application."""

    class Arguments:
        plan_id = graphene.ID(required=True)
        accepted_terms_version = graphene.Int(required=True)
        application_id = graphene.ID()
        organisation_id = graphene.ID(description="Defaults to the organisation you act for.")

    Output = SubscriptionPayload

    @staticmethod
    def mutate(root: Any, info: Any, plan_id: str, accepted_terms_version: int,
               application_id: str | None = None, organisation_id: str | None = None) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: info.context.subscriptions.subscribe(
            organisation_id or actor.organisation_id, plan_id,
            accepted_terms_version=accepted_terms_version, application_id=application_id, by=actor),
            lambda sub: {"subscription": info.context.licensing_queries.subscription(
                str(sub.id), fresh=True)})


class RevokeSubscription(graphene.Mutation):
    """Revoke a subscription for breach, at once and for good (administrators or the providing
    department's publishers)."""

    class Arguments:
        subscription_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    Output = SubscriptionPayload

    @staticmethod
    def mutate(root: Any, info: Any, subscription_id: str, reason: str) -> dict:
        actor = require_staff(info)
        return attempt(KNOWN, lambda: info.context.subscriptions.revoke_subscription(
            subscription_id, reason=reason, by=actor),
            lambda sub: {"subscription": info.context.licensing_queries.subscription(
                str(sub.id), fresh=True)})


class LicensingMutations(graphene.ObjectType):
    create_licence_template = CreateLicenceTemplate.Field()
    publish_licence_terms = PublishLicenceTerms.Field()
    define_plan = DefinePlan.Field()
    retire_plan = RetirePlan.Field()
    subscribe = Subscribe.Field()
    revoke_subscription = RevokeSubscription.Field()
