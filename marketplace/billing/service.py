"""Billing use cases: checkout, the customer portal, invoices, usage to the provider, and the
provider's events (webhooks) applied to subscriptions.

Billing keeps its own records (``BillingRecords``, its own event store); subscriptions and
organisations are the market's (``services.market``), reached only through the public use cases of
its ``Subscriptions`` and ``Organisations`` services.

Provider events are handled once: each is saved as a ``BillingEventReceipt`` whose id is natural
in the event id, so a repeated delivery finds it (or collides on it) and changes nothing.
State-changing events apply in the provider's order: per subscription a ``ProviderEventWatermark``
keeps the ``created`` time of the newest one applied, and an older one delivered late (an "active"
update sent before a payment failure that suspended) is recorded and ignored.

Two stores, so no one atomic save of the subscription change and the receipt. The order keeps it
correct: first the subscription change, through the market's use case (suspend, reinstate,
activate, expire); then the watermark and the receipt, together, in billing's store. A crash
between the two leaves no receipt, so the provider delivers the event again, and handling it again
is harmless: every change is decided from the subscription's status, which already shows the
change (a suspended subscription is not suspended again, an active one is "kept active"), so the
second handling changes nothing more and only records the receipt. The reverse order (receipt
first) would lose the change for good on such a crash. Concurrent handlers of one subscription
still meet: the loser's watermark save collides (or the market refuses a transition the
fresh status no longer allows) and it decides again on the fresh state. Every change is bound
to the subscription's version it was decided on (``expected_version``): a delivery that decided on
an older state, while another delivery moved the subscription, is refused by the market and
decides again, so a stale decision never lands on a newer state. One narrow race is left
that the single store closed: a handler that decided "no change" on a status another handler of
the same subscription is about to change (both in flight within milliseconds) keeps its decision;
Stripe sends one subscription's events seconds apart, and the next event corrects the status.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from functools import partial
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from eventsourcing.persistence import IntegrityError

from domain.actors import Actor
from domain.billing import (
    BillingAccount,
    BillingEventReceipt,
    ProviderEventWatermark,
    UsageDelivery,
)
from domain.errors import InvalidStateError, NotFoundError
from domain.licensing import is_free_price
from domain.metering import period_of
from domain.organisation import Organisation
from domain.subscription import Subscription, SubscriptionStatus
from marketplace.billing.events import ProviderEvent
from marketplace.billing.gateway import (
    BillingGateway,
    CheckoutRequest,
    Customer,
    Invoice,
    PlanPricing,
    UsageCharge,
    UsageReport,
)
from marketplace.billing.adapters.offline import OFFLINE_PREFIX, OfflineLedger, PeriodUsage
from marketplace.billing.records import BillingRecords
from marketplace.metering.ledger import FeedBatch, group_records
from marketplace.services.market.organisations import Organisations
from marketplace.services.market.subscriptions import Subscriptions
from marketplace.services.metering import Metering

log = logging.getLogger(__name__)

SUBSCRIPTION_KEY = "databank_subscription_id"
#: Saves of one event that collide with concurrent writers before the delivery fails (5xx: Stripe
#: delivers it again later).
HANDLING_ATTEMPTS = 5


@dataclass(frozen=True)
class HandledEvent:
    """What one delivery did: ``duplicate`` when the event was handled before."""

    event_id: str
    outcome: str
    subscription_id: str | None
    duplicate: bool = False


#: A subscription change billing decided, made by calling the market's public use case.
SubscriptionChange = Callable[[], Subscription]


@dataclass(frozen=True)
class Decision:
    """What one provider event does: the outcome in words, the subscription change to make
    through the market (None: none) and the watermark to save with the receipt (None:
    unchanged)."""

    subscription_id: str | None
    outcome: str
    change: SubscriptionChange | None = None
    watermark: ProviderEventWatermark | None = None


@dataclass
class Reconciliation:
    """What ``Billing.reconcile`` found and did.

    :ivar charges: metered charges of paid subscriptions in the fed usage ledger (``rows`` rows)
    :ivar sent: charges with a recorded delivery before this run (``missing``: none recorded)
    :ivar acknowledged: charges the provider had acknowledged before this run
    :ivar resent: identifiers sent again now and acknowledged
    :ivar failed: identifiers still failing (with the reason), left for the next run
    :ivar rejected: identifiers the provider refused (with its reason): kept, not re-sent
    """

    gateway: str
    charges: int = 0
    rows: int = 0
    sent: int = 0
    missing: int = 0
    acknowledged: int = 0
    resent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        if self.gateway == "offline":
            return ["offline ledger: nothing is sent, usage is invoiced locally from the ledger"]
        out = [f"gateway: {self.gateway}",
               f"charges in the ledger: {self.charges:,} ({self.rows:,} rows)",
               f"sent before: {self.sent:,} (never recorded: {self.missing:,})",
               f"acknowledged before: {self.acknowledged:,}",
               f"re-sent and acknowledged now: {len(self.resent):,}",
               f"still failing: {len(self.failed):,}",
               f"rejected: {len(self.rejected):,}"]
        out += [f"  rejected {k}: {v}" for k, v in sorted(self.rejected.items())]
        out += [f"  failing {k}: {v}" for k, v in sorted(self.failed.items())]
        return out


class Billing:
    """Paid plans, whichever gateway bills them.

    :param subscriptions: the market's subscriptions (through their public use cases only)
    :param organisations: the market's organisations (``organisation_for_member`` only)
    :param metering: the usage meters (the offline ledger's invoices are computed from them)
    :param gateway: the BillingGateway (an ``OfflineLedger`` is given its usage source here)
    :param grace: how long after an invoice was first due a failed payment suspends
    :param public_url: where Checkout and the portal send the member back
    :param clock: the current time (the market's, read by ``subscriptions``, by default)
    :param subscriptions_of: organisation id → its subscription ids (the entitlements view)
    :param records: billing's own event store
    """

    def __init__(self, *, subscriptions: Subscriptions, organisations: Organisations,
                 metering: Metering, gateway: BillingGateway, records: BillingRecords,
                 grace: timedelta = timedelta(days=3), public_url: str = "http://127.0.0.1:8000",
                 clock: Callable[[], datetime] | None = None,
                 subscriptions_of: Callable[[str], list[str]] | None = None) -> None:
        self.subscriptions = subscriptions
        self.organisations = organisations
        self.records = records
        self.metering = metering
        self.gateway = gateway
        self.grace = grace
        self.public_url = public_url.rstrip("/")
        self.clock = clock or subscriptions.clock
        self.subscriptions_of = subscriptions_of
        if isinstance(gateway, OfflineLedger):
            gateway.usage_of = self._offline_usage

    # ---- members -------------------------------------------------------------------------

    def start_checkout(self, subscription_id: str, *, by: Actor) -> str:
        """The Checkout URL for a subscription awaiting payment (the offline ledger completes it
        at once and activates the subscription)."""
        subscription, organisation = self._members_subscription(subscription_id, by)
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
            self.subscriptions.activate_subscription(str(subscription.id),
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

    def charges_of(self, batch: FeedBatch, customers: dict[str, str | None] | None = None
                   ) -> list[UsageCharge]:
        """The metered charges of one fed usage batch: one per paid, per-row-priced subscription
        and period, identified by the batch's record ids (``usage-<first>-<last>``).

        :param customers: subject → customer id (None: not billed at the provider), a cache the
            reconciler keeps across batches
        """
        customers = {} if customers is None else customers
        charges = []
        for (subject, period), records in group_records(batch.records):
            if subject not in customers:
                customers[subject] = self._billed_customer(subject)
            customer_id = customers[subject]
            if customer_id is None:
                continue
            charges.append(UsageCharge(
                identifier=f"usage-{records[0].id}-{records[-1].id}", subscription_id=subject,
                customer_id=customer_id, period=period, rows=sum(r.rows for r in records),
                at=self.clock()))
        return charges

    def _billed_customer(self, subject: str) -> str | None:
        subscription = self.subscriptions.get_subscription(subject) if ":" not in subject else None
        if subscription is None or not subscription.plan["price"].get("per_1k_rows_fen"):
            return None
        account = self._account(subscription.organisation_id)
        return None if account is None else account.customer_id  # never checked out: not billed

    @property
    def sends_usage(self) -> bool:
        """False for the offline ledger: the usage ledger is the bill, nothing is sent."""
        return not isinstance(self.gateway, OfflineLedger)

    def send_usage(self, batch: FeedBatch) -> UsageReport:
        """Send the metered usage of one fed batch to the provider, once: each charge's outcome
        is saved as a ``UsageDelivery`` (acknowledged, rejected, or failed for the reconciler);
        charges acknowledged or rejected before are not sent again. The Metering feed calls this
        after each batch (``Metering.on_fed``)."""
        if not self.sends_usage:
            return UsageReport()
        return self._deliver([(batch.number, c) for c in self.charges_of(batch)])

    def reconcile(self, *, chunk: int = 1000) -> "Reconciliation":
        """Compare the usage ledger (every fed batch of paid subscriptions) with what the provider
        acknowledged, and send again what is missing or failed — with the same identifiers, so
        the provider dedupes anything that did arrive. Rejected charges are reported, not re-sent."""
        report = Reconciliation(gateway=self.gateway.name)
        if not self.sends_usage:
            return report
        customers: dict[str, str | None] = {}
        pending: list[tuple[int, UsageCharge]] = []
        known: dict[str, UsageDelivery | None] = {}
        for batch in self.metering.ledger.fed_batches():
            for charge in self.charges_of(batch, customers):
                report.charges += 1
                report.rows += charge.rows
                delivery = self._delivery(charge.identifier)
                if delivery is None:
                    report.missing += 1
                else:
                    report.sent += 1
                    if delivery.outcome == "acknowledged":
                        report.acknowledged += 1
                        continue
                    if delivery.outcome == "rejected":
                        report.rejected[charge.identifier] = delivery.reason
                        continue
                    charge = replace(charge, at=datetime.fromtimestamp(delivery.at, timezone.utc))
                known[charge.identifier] = delivery
                pending.append((batch.number, charge))
        for start in range(0, len(pending), chunk):
            done = self._deliver(pending[start:start + chunk], known)
            report.resent.extend(done.acknowledged)
            report.rejected.update(done.rejected)
            report.failed.update(done.failed)
        return report

    def _deliver(self, items: list[tuple[int, UsageCharge]],
                 known: Mapping[str, "UsageDelivery | None"] | None = None) -> UsageReport:
        report = UsageReport()
        to_send: list[tuple[int, UsageCharge, UsageDelivery | None]] = []
        for number, charge in items:
            delivery = known[charge.identifier] if known is not None and charge.identifier in known \
                else self._delivery(charge.identifier)
            if delivery is not None and delivery.outcome == "acknowledged":
                report.acknowledged.append(charge.identifier)
            elif delivery is not None and delivery.outcome == "rejected":
                report.rejected[charge.identifier] = delivery.reason
            else:
                to_send.append((number, charge, delivery))
        if not to_send:
            return report
        answer = self.gateway.send_usage([c for _, c, _ in to_send])
        acknowledged = set(answer.acknowledged)
        changed: list[UsageDelivery] = []
        for number, charge, delivery in to_send:
            key = charge.identifier
            if key in acknowledged:
                outcome, reason = "acknowledged", ""
                report.acknowledged.append(key)
            elif key in answer.rejected:
                outcome, reason = "rejected", answer.rejected[key]
                report.rejected[key] = reason
            else:
                outcome, reason = "failed", answer.failed.get(key) or "no answer"
                report.failed[key] = reason
            if delivery is None:
                delivery = UsageDelivery.record(
                    identifier=key, batch_number=number, subscription_id=charge.subscription_id,
                    customer_id=charge.customer_id, period=charge.period, rows=charge.rows,
                    at=charge.at.timestamp(), outcome=outcome, reason=reason)
            else:
                delivery.resent(outcome, reason)
            if delivery.pending_events:
                changed.append(delivery)
        self._save_deliveries(changed)
        if report.failed or report.rejected:
            log.warning("usage to %s: %d acknowledged, %d failed (queued for the reconciler), "
                        "%d rejected", self.gateway.name, len(report.acknowledged),
                        len(report.failed), len(report.rejected))
        return report

    def _save_deliveries(self, deliveries: list["UsageDelivery"]) -> None:
        try:
            self.records.save(*deliveries)
        except IntegrityError:  # another sender recorded some of them first: keep the rest
            for delivery in deliveries:
                try:
                    self.records.save(delivery)
                except IntegrityError:
                    pass  # theirs stands; the provider deduped on the identifier

    def _delivery(self, identifier: str) -> "UsageDelivery | None":
        return self.records.delivery(identifier)

    # ---- provider events (webhooks) ----------------------------------------------------

    def handle_event(self, event: Mapping[str, Any] | ProviderEvent) -> HandledEvent:
        """Apply one verified provider event once; a repeated delivery changes nothing.

        Raises ``MalformedEventError`` (nothing recorded) when the event lacks what the bank reads.
        The subscription change is made first (through the market), then the watermark and
        the receipt are saved together: see the module docstring for why that order. A concurrent
        writer of the same watermark makes that save collide, and the market refuses a
        change the subscription's fresh status no longer allows: either way the handling is
        decided again on the fresh state (the event is not lost as a "duplicate")."""
        parsed = event if isinstance(event, ProviderEvent) else ProviderEvent.parse(event)
        for attempt in range(HANDLING_ATTEMPTS):
            if self.records.receipt(parsed.id) is not None:
                return HandledEvent(parsed.id, "duplicate", None, duplicate=True)
            decision = self._decide(parsed)
            receipt = BillingEventReceipt.handle(event_id=parsed.id, event_type=parsed.type,
                                                 subscription_id=decision.subscription_id,
                                                 outcome=decision.outcome)
            watermark = [decision.watermark] if decision.watermark is not None else []
            try:
                if decision.change is not None:
                    decision.change()
                self.records.save(*watermark, receipt)
            except (IntegrityError, InvalidStateError):
                # the same event, or another event of this subscription, won
                if attempt + 1 == HANDLING_ATTEMPTS:
                    raise
                continue
            return HandledEvent(parsed.id, decision.outcome, decision.subscription_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _decide(self, event: ProviderEvent) -> Decision:
        obj = event.object
        subscription_id = _our_subscription_id(obj)
        subscription = self.subscriptions.get_subscription(subscription_id) if subscription_id else None
        if subscription is None:
            return Decision(subscription_id, "ignored: not one of our subscriptions")
        if not event.changes_state:
            return Decision(subscription_id, "ignored: not an event the bank acts on")
        watermark = self.records.watermark(str(subscription.id))
        if watermark is not None and not watermark.is_newer(event.created):
            seeded = watermark if watermark.pending_events else None  # from the legacy one
            return Decision(subscription_id, "ignored: older than the last provider event "
                                             f"applied ({watermark.event_id})", watermark=seeded)
        outcome, change = self._apply(event.type, event.id, obj, event.created, subscription)
        if watermark is None:
            watermark = ProviderEventWatermark.start(subscription_id=str(subscription.id),
                                                     at=event.created, event_id=event.id)
        else:
            watermark.advance(event.created, event.id)
        return Decision(subscription_id, outcome, change,
                        watermark if watermark.pending_events else None)

    def _apply(self, kind: str, event_id: str, obj: Mapping[str, Any], created: int,
               subscription: Subscription) -> tuple[str, SubscriptionChange | None]:
        """What the event does to the subscription as it is now: (outcome, the change)."""
        status = subscription.lifecycle
        market, sid = self.subscriptions, str(subscription.id)
        # Every change is bound to the version it was decided on: a change decided on an older
        # state (another delivery moved the subscription meanwhile) is refused and decided again.
        version = subscription.version
        if status in (SubscriptionStatus.REVOKED, SubscriptionStatus.EXPIRED):
            return f"ignored: the subscription is {status.value}", None
        if kind == "checkout.session.completed":
            return self._forward_to_active(subscription, event_id)
        if kind == "invoice.paid":
            return self._forward_to_active(subscription, event_id)
        if kind == "invoice.payment_failed":
            if status is not SubscriptionStatus.ACTIVE:
                return f"ignored: the subscription is {status.value}", None
            first_due = _epoch(obj.get("due_date")) or _epoch(obj.get("created")) or created
            if created - first_due < self.grace.total_seconds():
                return "payment failed: within the grace period", None
            return "suspended", partial(
                market.suspend_subscription, sid, expected_version=version,
                reason=f"payment failed (invoice {obj.get('id')}, event {event_id})")
        if kind in ("customer.subscription.created", "customer.subscription.updated"):
            stripe_status = obj.get("status") if isinstance(obj.get("status"), str) else None
            if stripe_status in ("active", "trialing"):
                return self._forward_to_active(subscription, event_id)
            if stripe_status == "unpaid" and status is SubscriptionStatus.ACTIVE:
                return "suspended", partial(
                    market.suspend_subscription, sid, expected_version=version,
                    reason=f"unpaid at the payment provider (event {event_id})")
            if stripe_status == "canceled":
                return "expired", partial(market.expire_subscription, sid, at=self.clock(),
                                          expected_version=version)
            return f"noted: provider status {stripe_status}", None
        if kind == "customer.subscription.deleted":
            return "expired", partial(market.expire_subscription, sid, at=self.clock(),
                                      expected_version=version)
        return "ignored: not an event the bank acts on", None

    def _forward_to_active(self, subscription: Subscription, event_id: str
                           ) -> tuple[str, SubscriptionChange | None]:
        sid = str(subscription.id)
        if subscription.lifecycle is SubscriptionStatus.PENDING_PAYMENT:
            return "activated", partial(self.subscriptions.activate_subscription, sid,
                                        reference=event_id, expected_version=subscription.version)
        if subscription.lifecycle is SubscriptionStatus.SUSPENDED:
            return "reinstated", partial(self.subscriptions.reinstate_subscription, sid,
                                         reference=event_id,
                                         expected_version=subscription.version)
        return "kept active", None

    # ---- status ------------------------------------------------------------------------

    def status(self, subscription_id: str, *, by: Actor) -> dict[str, Any]:
        subscription, _ = self._members_subscription(subscription_id, by)
        account = self._account(subscription.organisation_id)
        return {"subscription_id": str(subscription.id), "status": subscription.status,
                "reason": subscription.reason, "gateway": self.gateway.name,
                "charged": self.gateway.name != "offline",
                "paid": not is_free_price(subscription.plan["price"]),
                "customer_id": account.customer_id if account else None,
                "payment_reference": subscription.payment_reference}

    # ---- helpers -----------------------------------------------------------------------

    def _members_subscription(self, subscription_id: str, by: Actor
                              ) -> tuple[Subscription, Organisation]:
        """The subscription and its organisation when ``by`` is a member of it; "no such
        subscription" otherwise, the same answer as when there is none (subscription ids are
        uuid5 of guessable facts: "not yours" must not tell that one exists, or whose it is)."""
        found = self.subscriptions.get_subscription(subscription_id)
        if found is not None:
            try:
                return found, self._member_organisation(found.organisation_id, by)
            except NotFoundError:
                pass
        raise NotFoundError("no such subscription", field="subscription_id")

    def _member_organisation(self, organisation_id: str, by: Actor) -> Organisation:
        return self.organisations.organisation_for_member(organisation_id, by)

    def _account(self, organisation_id: str) -> BillingAccount | None:
        return self.records.account(organisation_id)

    def _customer(self, organisation: Organisation) -> str:
        account = self._account(str(organisation.id))
        if account is not None:
            return account.customer_id
        customer_id = self.gateway.ensure_customer(Customer(str(organisation.id), organisation.name))
        try:
            self.records.save(BillingAccount.open(organisation_id=str(organisation.id),
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
            subscription = self.subscriptions.get_subscription(subscription_id)
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
    Checkout Session's client_reference_id. Fields of the wrong kind count as absent."""
    found = _mapping(obj.get("metadata")).get(SUBSCRIPTION_KEY)
    if not found:
        details = _mapping(_mapping(obj.get("parent")).get("subscription_details"))
        found = _mapping(details.get("metadata")).get(SUBSCRIPTION_KEY)
    if not found and obj.get("object") == "checkout.session":
        found = obj.get("client_reference_id")
    return found if isinstance(found, str) and found else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _epoch(value: Any) -> int:
    """An epoch-seconds field of a provider object; 0 when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return int(value)
