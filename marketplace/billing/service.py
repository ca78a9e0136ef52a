"""Billing use cases: checkout, the customer portal, invoices, usage to the provider, and the
provider's events (webhooks) applied to subscriptions.

Provider events are handled once: each is saved as a ``BillingEventReceipt`` whose id is natural
in the event id, in the SAME save as the subscription change it causes, so a repeated delivery
collides and changes nothing. Events only move a subscription forward (the domain's commands are
idempotent and refuse backward moves), so deliveries in any order end in the same state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from eventsourcing.persistence import IntegrityError

from domain.actors import Actor
from domain.billing import BillingAccount, BillingEventReceipt
from domain.errors import InvalidStateError, NotFoundError
from domain.licensing import is_free_price
from domain.metering import period_of
from domain.organisation import Organisation
from domain.subscription import Subscription, SubscriptionStatus
from marketplace.billing.gateway import (
    BillingGateway,
    CheckoutRequest,
    Customer,
    Invoice,
    PlanPricing,
    UsageCharge,
    UsageReport,
)
from marketplace.billing.offline import OFFLINE_PREFIX, OfflineLedger, PeriodUsage
from marketplace.metering.ledger import FeedBatch, group_records
from marketplace.services.marketplace import Marketplace
from marketplace.services.metering import Metering

log = logging.getLogger(__name__)

SUBSCRIPTION_KEY = "databank_subscription_id"


@dataclass(frozen=True)
class HandledEvent:
    """What one delivery did: ``duplicate`` when the event was handled before."""

    event_id: str
    outcome: str
    subscription_id: str | None
    duplicate: bool = False


class Billing:
    """Paid plans, whichever gateway bills them.

    :param marketplace: where subscriptions, organisations and billing records live
    :param metering: the usage meters (the offline ledger's invoices are computed from them)
    :param gateway: the BillingGateway (an ``OfflineLedger`` is given its usage source here)
    :param grace: how long after an invoice was first due a failed payment suspends
    :param public_url: where Checkout and the portal send the member back
    :param clock: the current time (the Marketplace's by default)
    :param subscriptions_of: organisation id → its subscription ids (the entitlements view)
    """

    def __init__(self, *, marketplace: Marketplace, metering: Metering, gateway: BillingGateway,
                 grace: timedelta = timedelta(days=3), public_url: str = "http://127.0.0.1:8000",
                 clock: Callable[[], datetime] | None = None,
                 subscriptions_of: Callable[[str], list[str]] | None = None) -> None:
        self.marketplace = marketplace
        self.metering = metering
        self.gateway = gateway
        self.grace = grace
        self.public_url = public_url.rstrip("/")
        self.clock = clock or marketplace.clock
        self.subscriptions_of = subscriptions_of
        if isinstance(gateway, OfflineLedger):
            gateway.usage_of = self._offline_usage

    # ---- members -------------------------------------------------------------------------

    def start_checkout(self, subscription_id: str, *, by: Actor) -> str:
        """The Checkout URL for a subscription awaiting payment (the offline ledger completes it
        at once and activates the subscription)."""
        subscription = self._subscription(subscription_id)
        organisation = self._member_organisation(subscription.organisation_id, by)
        if subscription.lifecycle is not SubscriptionStatus.PENDING_PAYMENT:
            raise InvalidStateError(f"a {subscription.status} subscription has nothing to pay",
                                    field="subscription_id")
        plan = subscription.plan
        prices = self.gateway.ensure_product_and_prices(
            PlanPricing(plan_id=subscription.plan_id, name=plan.get("name") or subscription.plan_id,
                        price=plan["price"]))
        customer_id = self._customer(organisation)
        url = self.gateway.checkout_session(
            CheckoutRequest(subscription_id=str(subscription.id), customer_id=customer_id,
                            prices=prices),
            success_url=f"{self.public_url}/?checkout=done",
            cancel_url=f"{self.public_url}/?checkout=cancelled")
        if getattr(self.gateway, "completes_checkout_at_once", False):
            self.marketplace.activate_subscription(str(subscription.id),
                                                   reference=f"offline-checkout:{subscription.id}")
        return url

    def open_portal(self, organisation_id: str, *, by: Actor) -> str:
        organisation = self._member_organisation(organisation_id, by)
        return self.gateway.portal_session(self._customer(organisation), f"{self.public_url}/")

    def invoices(self, organisation_id: str, *, by: Actor) -> list[Invoice]:
        organisation = self._member_organisation(organisation_id, by)
        account = self._account(str(organisation.id))
        return [] if account is None else self.gateway.invoices(account.customer_id)

    # ---- usage -------------------------------------------------------------------------

    def charges_of(self, batch: FeedBatch) -> list[UsageCharge]:
        """The metered charges of one fed usage batch: one per paid, per-row-priced subscription
        and period, identified by the batch's record ids (``usage-<first>-<last>``)."""
        charges = []
        for (subject, period), records in group_records(batch.records):
            subscription = self.marketplace.get_subscription(subject) if ":" not in subject else None
            if subscription is None or not subscription.plan["price"].get("per_1k_rows_fen"):
                continue
            account = self._account(subscription.organisation_id)
            if account is None:  # never checked out: nothing to bill at the provider
                continue
            charges.append(UsageCharge(
                identifier=f"usage-{records[0].id}-{records[-1].id}", subscription_id=subject,
                customer_id=account.customer_id, period=period, rows=sum(r.rows for r in records),
                at=self.clock()))
        return charges

    def send_usage(self, batch: FeedBatch) -> UsageReport:
        return self.gateway.send_usage(self.charges_of(batch))

    # ---- provider events (webhooks) ----------------------------------------------------

    def handle_event(self, event: Mapping[str, Any]) -> HandledEvent:
        """Apply one verified provider event once; a repeated delivery changes nothing."""
        event_id = str(event["id"])
        receipt_id = BillingEventReceipt.create_id(event_id)
        if self.marketplace._find(BillingEventReceipt, receipt_id) is not None:
            return HandledEvent(event_id, "duplicate", None, duplicate=True)
        obj = (event.get("data") or {}).get("object") or {}
        subscription_id = _our_subscription_id(obj)
        subscription = self.marketplace.get_subscription(subscription_id) if subscription_id else None
        outcome = "ignored: not one of our subscriptions" if subscription is None else \
            self._apply(str(event["type"]), event_id, obj, event, subscription)
        receipt = BillingEventReceipt.handle(event_id=event_id, event_type=str(event["type"]),
                                             subscription_id=subscription_id, outcome=outcome)
        changed = [subscription] if subscription is not None and subscription.pending_events else []
        try:
            self.marketplace.save(*changed, receipt)
        except IntegrityError:  # a concurrent delivery of the same event won
            return HandledEvent(event_id, "duplicate", subscription_id, duplicate=True)
        return HandledEvent(event_id, outcome, subscription_id)

    def _apply(self, kind: str, event_id: str, obj: Mapping[str, Any], event: Mapping[str, Any],
               subscription: Subscription) -> str:
        status = subscription.lifecycle
        if status in (SubscriptionStatus.REVOKED, SubscriptionStatus.EXPIRED):
            return f"ignored: the subscription is {status.value}"
        if kind == "checkout.session.completed":
            return self._forward_to_active(subscription, event_id)
        if kind == "invoice.paid":
            return self._forward_to_active(subscription, event_id)
        if kind == "invoice.payment_failed":
            if status is not SubscriptionStatus.ACTIVE:
                return f"ignored: the subscription is {status.value}"
            first_due = int(obj.get("due_date") or obj.get("created") or event.get("created") or 0)
            at = int(event.get("created") or self.clock().timestamp())
            if at - first_due < self.grace.total_seconds():
                return "payment failed: within the grace period"
            subscription.suspend(f"payment failed (invoice {obj.get('id')}, event {event_id})")
            return "suspended"
        if kind in ("customer.subscription.created", "customer.subscription.updated"):
            stripe_status = obj.get("status")
            if stripe_status in ("active", "trialing"):
                return self._forward_to_active(subscription, event_id)
            if stripe_status == "unpaid" and status is SubscriptionStatus.ACTIVE:
                subscription.suspend(f"unpaid at the payment provider (event {event_id})")
                return "suspended"
            if stripe_status == "canceled":
                subscription.expire(self.clock())
                return "expired"
            return f"noted: provider status {stripe_status}"
        if kind == "customer.subscription.deleted":
            subscription.expire(self.clock())
            return "expired"
        return "ignored: not an event the bank acts on"

    @staticmethod
    def _forward_to_active(subscription: Subscription, event_id: str) -> str:
        if subscription.lifecycle is SubscriptionStatus.PENDING_PAYMENT:
            subscription.activate(event_id)
            return "activated"
        if subscription.lifecycle is SubscriptionStatus.SUSPENDED:
            subscription.reinstate(event_id)
            return "reinstated"
        return "kept active"

    # ---- status ------------------------------------------------------------------------

    def status(self, subscription_id: str, *, by: Actor) -> dict[str, Any]:
        subscription = self._subscription(subscription_id)
        self._member_organisation(subscription.organisation_id, by)
        account = self._account(subscription.organisation_id)
        return {"subscription_id": str(subscription.id), "status": subscription.status,
                "reason": subscription.reason, "gateway": self.gateway.name,
                "charged": self.gateway.name != "offline",
                "paid": not is_free_price(subscription.plan["price"]),
                "customer_id": account.customer_id if account else None,
                "payment_reference": subscription.payment_reference}

    # ---- helpers -----------------------------------------------------------------------

    def _subscription(self, subscription_id: str) -> Subscription:
        found = self.marketplace.get_subscription(subscription_id)
        if found is None:
            raise NotFoundError("no such subscription", field="subscription_id")
        return found

    def _member_organisation(self, organisation_id: str, by: Actor) -> Organisation:
        organisation = self.marketplace._require(Organisation, organisation_id, "organisation",
                                                 "organisation_id")
        organisation.check_member(by)
        return organisation

    def _account(self, organisation_id: str) -> BillingAccount | None:
        return self.marketplace._find(BillingAccount, BillingAccount.create_id(organisation_id))

    def _customer(self, organisation: Organisation) -> str:
        account = self._account(str(organisation.id))
        if account is not None:
            return account.customer_id
        customer_id = self.gateway.ensure_customer(Customer(str(organisation.id), organisation.name))
        try:
            self.marketplace.save(BillingAccount.open(organisation_id=str(organisation.id),
                                                      customer_id=customer_id))
        except IntegrityError:  # another request opened it first: use theirs
            account = self._account(str(organisation.id))
            assert account is not None
            return account.customer_id
        return customer_id

    def _offline_usage(self, customer_id: str) -> list[PeriodUsage]:
        organisation_id = customer_id.removeprefix(OFFLINE_PREFIX)
        now = period_of(self.clock())
        found = []
        for doc in self.marketplace_subscriptions(organisation_id):
            if is_free_price(doc["plan"]["price"]):
                continue
            period = period_of(datetime.fromisoformat(doc["started_at"]))
            while period <= now:
                usage = self.metering.meter_usage(doc["id"], period) or {}
                found.append(PeriodUsage(subscription_id=doc["id"], period=period,
                                         rows=usage.get("rows", 0), price=doc["plan"]["price"]))
                period = _next_period(period)
        return found

    def marketplace_subscriptions(self, organisation_id: str) -> list[dict[str, Any]]:
        """The organisation's subscriptions (id, plan, started_at), from the event store."""
        found = []
        for subscription_id in self._subscription_ids(organisation_id):
            subscription = self.marketplace.get_subscription(subscription_id)
            if subscription is not None:
                found.append({"id": str(subscription.id), "plan": subscription.plan,
                              "started_at": subscription.created_on.astimezone(timezone.utc).isoformat()})
        return found

    def _subscription_ids(self, organisation_id: str) -> list[str]:
        return list(self.subscriptions_of(organisation_id)) if self.subscriptions_of else []


def _next_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def _our_subscription_id(obj: Mapping[str, Any]) -> str | None:
    """Our subscription id from a Stripe object: metadata, the invoice's parent, or the
    Checkout Session's client_reference_id."""
    found = (obj.get("metadata") or {}).get(SUBSCRIPTION_KEY)
    if not found:
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        found = (details.get("metadata") or {}).get(SUBSCRIPTION_KEY)
    if not found and obj.get("object") == "checkout.session":
        found = obj.get("client_reference_id")
    return str(found) if found else None
