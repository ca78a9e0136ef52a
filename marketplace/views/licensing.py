"""Licensing queries for a caller: licence templates and plans (anyone), and an organisation's
subscriptions (its members; administrators any). Out of scope is an empty list, like an
organisation without subscriptions (the scope rule: ``views.organisations``).

The fresh reads (``fresh=True``) are for the caller who just changed something: the view
catches the read model up with the log first, so the answer shows the change.
"""

from __future__ import annotations

from domain.actors import Actor
from marketplace.projections.entitlements import EntitlementsView
from marketplace.projections.market.licensing import (
    LicenceTemplateDoc,
    LicenceTermsDoc,
    PlanDoc,
    PriceDoc,
    QuotasDoc,
)
from marketplace.projections.market.subscriptions import PlanSnapshot, SubscriptionDoc
from marketplace.views.organisations import CatchUp, organisation_in_scope

__all__ = ["LicenceTemplateDoc", "LicenceTermsDoc", "LicensingQueries", "PlanDoc",
           "PlanSnapshot", "PriceDoc", "QuotasDoc", "SubscriptionDoc"]


class LicensingQueries:
    """The licensing read side for one caller at a time (built once, shared by requests)."""

    def __init__(self, read_model: EntitlementsView, catch_up: CatchUp) -> None:
        """:param read_model: the entitlements read model
        :param catch_up: brings it up to date with the log (for fresh reads)"""
        self._read_model = read_model
        self._catch_up = catch_up

    def licence_templates(self) -> list[LicenceTemplateDoc]:
        """Every licence template with its terms versions, by key."""
        return self._read_model.licence_templates()

    def licence_template(self, template_id: str, *,
                         fresh: bool = False) -> LicenceTemplateDoc | None:
        self._freshen(fresh)
        return self._read_model.licence_template(template_id)

    def plans(self, asset_id: str, *, include_retired: bool = False) -> list[PlanDoc]:
        """The plans an asset is offered under, by name (retired ones only when asked)."""
        plans = self._read_model.plans_of(asset_id)
        return plans if include_retired else [p for p in plans if not p["retired"]]

    def plan(self, plan_id: str, *, fresh: bool = False) -> PlanDoc | None:
        self._freshen(fresh)
        return self._read_model.plan(plan_id)

    def subscriptions(self, actor: Actor,
                      organisation_id: str | None = None) -> list[SubscriptionDoc]:
        """An organisation's subscriptions, oldest first: a member's (their current organisation
        by default), any for administrators; empty out of scope."""
        organisation = organisation_in_scope(self._read_model, actor, organisation_id)
        return self._read_model.subscriptions_of(organisation) if organisation else []

    def subscription(self, subscription_id: str, *,
                     fresh: bool = False) -> SubscriptionDoc | None:
        """One subscription, for the caller who just started or changed it."""
        self._freshen(fresh)
        return self._read_model.subscription(subscription_id)

    def _freshen(self, fresh: bool) -> None:
        if fresh:
            self._catch_up()
