"""Subscriptions: an organisation subscribes to a plan, accepting the current terms version;
administrators or the providing department revoke on breach; billing suspends and reinstates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from eventsourcing.persistence import IntegrityError

from domain.actors import Actor
from domain.access_application import AccessApplication
from domain.calendar import china_date
from domain.errors import AlreadyExistsError, InvalidStateError, NotFoundError
from domain.licensing import LicenceTemplate, Plan
from domain.metadata import OpenType
from domain.subscription import Subscription, SubscriptionStatus
from marketplace.services.market.store import Market, open_type_of


class Subscriptions:
    """Subscriptions: started and renewed by members, revoked on breach, moved along by billing."""

    def __init__(self, market: Market) -> None:
        self.market = market

    @property
    def clock(self) -> Callable[[], datetime]:
        """The market's clock (billing counts its grace periods and expiries by it)."""
        return self.market.clock

    def subscribe(self, organisation_id: str, plan_id: str, *, accepted_terms_version: int,
                  application_id: str | None = None, by: Actor) -> Subscription:
        """Subscribe an organisation to a plan.

        :param accepted_terms_version: the terms version the member read and accepted; must be
            the template's current one
        :param application_id: for a conditionally open asset, the approved access application
        """
        organisation = self.market.organisation_for(organisation_id, by)
        plan = self.market.require(Plan, plan_id, "plan", "plan_id")
        template = self.market.require(LicenceTemplate, plan.licence_template_id,
                                       "licence template", "plan_id")
        asset = self.market.published_asset(plan.asset_id)
        open_type = open_type_of(asset)
        approved = None
        if open_type == OpenType.CONDITIONAL.value and application_id:
            application = self.market.require(AccessApplication, application_id,
                                              "access application", "application_id")
            approved = application.check_grants(organisation_id=str(organisation.id),
                                                asset_id=str(asset.id),
                                                on=china_date(self.market.clock()))
        terms: dict[str, Any] = dict(plan=plan.record(), template_current_version=template.current_version,
                     accepted_terms_version=accepted_terms_version, asset_open_type=open_type,
                     approved_application_id=approved, by=by)
        existing = self.market.find(Subscription,
                                    Subscription.create_id(str(organisation.id), str(plan.id)))
        if existing is not None:
            if existing.lifecycle is not SubscriptionStatus.EXPIRED:
                raise AlreadyExistsError(
                    f"{organisation.name} already subscribes to this plan ({existing.status})",
                    field="plan_id")
            existing.renew(**terms)
            self.market.save(existing)
            return existing
        subscription = Subscription.start(organisation_id=str(organisation.id), **terms)
        try:
            self.market.save(subscription)
        except IntegrityError:
            raise AlreadyExistsError(f"{organisation.name} already subscribes to this plan",
                                     field="plan_id") from None
        return subscription

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        return self.market.find(Subscription, subscription_id)

    def revoke_subscription(self, subscription_id: str, *, reason: str, by: Actor) -> Subscription:
        """Breach: cut access at once and for good (an administrator or the providing department)."""
        def revoke(subscription: Subscription) -> None:
            asset = self.market.catalogue.get_asset(subscription.asset_id)
            if asset is None:
                raise NotFoundError("the subscription's asset is gone", field="subscription_id")
            subscription.revoke(reason=reason, by=by, provider_department_id=asset.department_id)

        return self.market.change(Subscription, subscription_id, "subscription", "subscription_id",
                                  revoke)

    # ---- billing (called by the billing gateway's webhooks) ------------------------------

    def activate_subscription(self, subscription_id: str, *, reference: str,
                              expected_version: int | None = None) -> Subscription:
        """:param expected_version: change only the subscription as it was when the caller
            decided (billing decides from a provider event, then changes): another version
            raises InvalidStateError, so the caller decides again on the fresh state"""
        return self._change(subscription_id, expected_version, lambda s: s.activate(reference))

    def suspend_subscription(self, subscription_id: str, *, reason: str,
                             expected_version: int | None = None) -> Subscription:
        return self._change(subscription_id, expected_version, lambda s: s.suspend(reason))

    def reinstate_subscription(self, subscription_id: str, *, reference: str = "",
                               expected_version: int | None = None) -> Subscription:
        return self._change(subscription_id, expected_version, lambda s: s.reinstate(reference))

    def expire_subscription(self, subscription_id: str, *, at: datetime,
                            expected_version: int | None = None) -> Subscription:
        """The subscriber cancelled at the payment provider; expiring twice changes nothing."""
        return self._change(subscription_id, expected_version, lambda s: s.expire(at))

    def _change(self, subscription_id: str, expected_version: int | None,
                command: Callable[[Subscription], object]) -> Subscription:
        def guarded(subscription: Subscription) -> None:
            # Checked on the reloaded aggregate inside the market's retry: a writer in between
            # moves the version (and a concurrent save collides), so a decision taken on an
            # older state never lands on a newer one.
            if expected_version is not None and subscription.version != expected_version:
                raise InvalidStateError("the subscription changed since this change was decided",
                                        field="subscription_id")
            command(subscription)

        return self.market.change(Subscription, subscription_id, "subscription",
                                  "subscription_id", guarded)
