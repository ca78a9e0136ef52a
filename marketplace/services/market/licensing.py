"""Licence templates and plans: administrators set the terms and prices of data."""

from __future__ import annotations

from typing import Any, Mapping

from eventsourcing.persistence import IntegrityError

from domain.actors import Actor
from domain.errors import AlreadyExistsError
from domain.licensing import FieldTier, LicenceKind, LicenceTemplate, Overage, Plan
from marketplace.services.market.store import Market


class Licensing:
    """Licence templates (the terms, versioned) and plans (what an asset costs, under which
    template)."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def create_licence_template(self, *, key: str, name: str, kind: LicenceKind | str, text: str,
                                summary: str, by: Actor) -> LicenceTemplate:
        template = LicenceTemplate.create(key=key, name=name, kind=kind, text=text,
                                          summary=summary, by=by)
        try:
            self.market.save(template)
        except IntegrityError:
            raise AlreadyExistsError(f"a licence template with key {template.key!r} exists",
                                     field="key") from None
        return template

    def get_licence_template(self, template_id: str) -> LicenceTemplate | None:
        return self.market.find(LicenceTemplate, template_id)

    def publish_terms(self, template_id: str, *, text: str, summary: str,
                      by: Actor) -> LicenceTemplate:
        """Publish the next terms version; existing subscribers keep the one they accepted."""
        return self.market.change(LicenceTemplate, template_id, "licence template", "template_id",
                                  lambda t: t.publish_terms(text=text, summary=summary, by=by))

    def define_plan(self, *, asset_id: str, name: str, licence_template_id: str,
                    price: Mapping[str, Any], quotas: Mapping[str, Any], overage: Overage | str,
                    field_tier: FieldTier | str, item_overrides: Mapping[str, str] | None = None,
                    by: Actor) -> Plan:
        """Offer a published asset under a licence template; the name is unique per asset."""
        plan = Plan.define(asset_id=asset_id, name=name, licence_template_id=licence_template_id,
                           price=price, quotas=quotas, overage=overage, field_tier=field_tier,
                           item_overrides=item_overrides, by=by)
        self.market.require(LicenceTemplate, licence_template_id, "licence template",
                            "licence_template_id")
        self.market.published_asset(asset_id)
        try:
            self.market.save(plan)
        except IntegrityError:
            raise AlreadyExistsError(f"the asset already has a plan named {plan.name!r}",
                                     field="name") from None
        return plan

    def get_plan(self, plan_id: str) -> Plan | None:
        return self.market.find(Plan, plan_id)

    def retire_plan(self, plan_id: str, *, reason: str, by: Actor) -> Plan:
        return self.market.change(Plan, plan_id, "plan", "plan_id",
                                  lambda p: p.retire(reason=reason, by=by))
