"""The billing use cases on the fake gateway and on the offline ledger."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import InvalidStateError, NotFoundError
from domain.actors import Actor, Role
from marketplace.billing import OfflineLedger
from marketplace.billing.adapters.offline import rows_charge_fen
from marketplace.billing.service import Billing
from marketplace.bootstrap import build_in_memory
from domain.metering import period_of
from marketplace.metering.ledger import FeedBatch, UsageRecord
from support.billing import for_subscription, paid_subscription, stripe_event
from support.fake_billing import FakeBillingGateway

PERIOD = period_of(datetime.now(timezone.utc))


@pytest.fixture
def bank():
    bank = build_in_memory()
    yield bank
    bank.close()


def billing_for(bank, gateway, grace=timedelta(days=3)) -> Billing:
    return Billing(subscriptions=bank.subscriptions, organisations=bank.organisations,
                   metering=bank.metering, gateway=gateway, grace=grace,
                   subscriptions_of=lambda org: [d["id"] for d in _subs(bank, org)],
                   records=bank.billing.records)


def _subs(bank, organisation_id):
    bank.entitlements_follower.catch_up()
    return bank.entitlements_view.subscriptions_of(organisation_id)


def status(bank, subscription_id: str) -> str:
    return bank.subscriptions.get_subscription(subscription_id).status


def batch(subject: str, *rows: int, first: int = 1) -> FeedBatch:
    records = [UsageRecord(id=first + i, subject=subject, period=PERIOD, rows=n, calls=1, bytes=0,
                           day="2026-03-02", asset_id=None, department_id=None, organisation_id=None)
               for i, n in enumerate(rows)]
    return FeedBatch(number=1, records=records)


def test_checkout_creates_the_customer_once_and_returns_the_gateway_url(bank) -> None:
    paid = paid_subscription(bank)
    gateway = FakeBillingGateway()
    billing = billing_for(bank, gateway)
    url = billing.start_checkout(paid.subscription_id, by=paid.member)
    billing.open_portal(paid.organisation_id, by=paid.member)
    assert url == f"https://checkout.fake/{paid.subscription_id}"
    assert [c for c in gateway.calls if c[0] == "ensure_customer"] == [("ensure_customer", paid.organisation_id)]
    assert status(bank, paid.subscription_id) == "pending_payment"


def test_only_a_member_of_the_organisation_checks_out(bank) -> None:
    paid = paid_subscription(bank)
    stranger = Actor("someone", "路人", Role.MEMBER)
    with pytest.raises(NotFoundError, match="^no such subscription$"):  # as if there were none
        billing_for(bank, FakeBillingGateway()).start_checkout(paid.subscription_id, by=stranger)


def test_the_offline_ledger_completes_checkout_at_once(bank) -> None:
    paid = paid_subscription(bank)
    billing = billing_for(bank, OfflineLedger())
    billing.start_checkout(paid.subscription_id, by=paid.member)
    assert status(bank, paid.subscription_id) == "active"
    with pytest.raises(InvalidStateError):
        billing.start_checkout(paid.subscription_id, by=paid.member)


def test_offline_invoices_are_the_monthly_fee_plus_rows_and_not_charged(bank) -> None:
    paid = paid_subscription(bank)
    billing = billing_for(bank, OfflineLedger())
    billing.start_checkout(paid.subscription_id, by=paid.member)
    bank.metering.record_batch(batch(paid.subscription_id, 1500, 2500))
    [invoice] = billing.invoices(paid.organisation_id, by=paid.member)
    assert invoice.amount_fen == 9900 + 1000 and invoice.period == PERIOD
    assert invoice.charged is False and invoice.status == "not charged"


def test_rows_are_charged_per_thousand_rounded_half_up_to_the_fen() -> None:
    assert rows_charge_fen(1500, 250) == 375
    assert rows_charge_fen(1, 250) == 0
    assert rows_charge_fen(2, 250) == 1


def test_usage_goes_out_per_subscription_with_the_batch_record_ids_as_identifier(bank) -> None:
    paid = paid_subscription(bank)
    gateway = FakeBillingGateway()
    billing = billing_for(bank, gateway)
    billing.start_checkout(paid.subscription_id, by=paid.member)
    report = billing.send_usage(batch(paid.subscription_id, 100, 200, first=7))
    assert report.acknowledged == ["usage-7-8"]
    assert gateway.usage["usage-7-8"].rows == 300
    assert gateway.usage["usage-7-8"].customer_id == "cus_fake1"


def test_usage_of_anonymous_callers_and_unknown_subjects_is_not_billed(bank) -> None:
    billing = billing_for(bank, FakeBillingGateway())
    assert billing.charges_of(batch("anon:10.0.0.1", 5)) == []


def test_checkout_completed_activates_and_a_repeated_delivery_changes_nothing(bank) -> None:
    paid = paid_subscription(bank)
    billing = billing_for(bank, FakeBillingGateway())
    event = stripe_event("evt_1", "checkout.session.completed",
                         for_subscription(paid.subscription_id, "checkout.session.completed"))
    outcomes = [billing.handle_event(event) for _ in range(3)]
    assert [o.outcome for o in outcomes] == ["activated", "duplicate", "duplicate"]
    subscription = bank.subscriptions.get_subscription(paid.subscription_id)
    assert subscription.status == "active" and subscription.payment_reference == "evt_1"


def test_a_payment_failure_past_the_grace_period_suspends_and_paying_reinstates(bank) -> None:
    paid = paid_subscription(bank)
    billing = billing_for(bank, FakeBillingGateway(), grace=timedelta(days=3))
    sub = paid.subscription_id
    due = 1_790_000_000
    billing.handle_event(stripe_event("evt_1", "checkout.session.completed",
                                      for_subscription(sub, "checkout.session.completed"),
                                      created=due - 86400))  # paid before the invoice fell due
    early = billing.handle_event(stripe_event("evt_2", "invoice.payment_failed",
                                              for_subscription(sub, "invoice.", due_date=due),
                                              created=due + 3600))
    assert early.outcome.startswith("payment failed") and status(bank, sub) == "active"
    late = billing.handle_event(stripe_event("evt_3", "invoice.payment_failed",
                                             for_subscription(sub, "invoice.", due_date=due),
                                             created=due + 4 * 86400))
    assert late.outcome == "suspended" and status(bank, sub) == "suspended"
    assert "evt_3" in bank.subscriptions.get_subscription(sub).reason
    billing.handle_event(stripe_event("evt_4", "invoice.paid", for_subscription(sub, "invoice.")))
    assert status(bank, sub) == "active"


def test_an_update_arriving_before_the_creation_still_activates_once(bank) -> None:
    paid = paid_subscription(bank)
    billing = billing_for(bank, FakeBillingGateway())
    sub = paid.subscription_id
    updated = billing.handle_event(stripe_event("evt_u", "customer.subscription.updated",
                                                for_subscription(sub, "subscription", status="active")))
    created = billing.handle_event(stripe_event("evt_c", "customer.subscription.created",
                                                for_subscription(sub, "subscription", status="incomplete")))
    assert (updated.outcome, status(bank, sub)) == ("activated", "active")
    assert created.outcome == "noted: provider status incomplete"


def test_deleting_the_stripe_subscription_ends_ours_and_later_events_are_ignored(bank) -> None:
    paid = paid_subscription(bank)
    billing = billing_for(bank, FakeBillingGateway())
    sub = paid.subscription_id
    billing.handle_event(stripe_event("evt_d", "customer.subscription.deleted",
                                      for_subscription(sub, "subscription", status="canceled")))
    late = billing.handle_event(stripe_event("evt_p", "invoice.paid", for_subscription(sub, "invoice.")))
    assert status(bank, sub) == "expired" and late.outcome == "ignored: the subscription is expired"


def test_events_about_other_subscriptions_are_recorded_and_ignored(bank) -> None:
    billing = billing_for(bank, FakeBillingGateway())
    handled = billing.handle_event(stripe_event("evt_x", "invoice.paid", {"id": "in_9", "object": "invoice"}))
    assert handled.outcome.startswith("ignored") and billing.handle_event(
        stripe_event("evt_x", "invoice.paid", {})).duplicate


# ---- every state-changing event in the provider's order ----------------------------------------

DUE = 1_790_000_000


def suspended_for_a_failed_payment(bank, billing) -> str:
    """A paid subscription checked out before its invoice fell due, then suspended by a payment
    failure four days after."""
    sub = paid_subscription(bank).subscription_id
    billing.handle_event(stripe_event("evt_paid", "checkout.session.completed",
                                      for_subscription(sub, "checkout.session.completed"),
                                      created=DUE - 86400))
    failed = billing.handle_event(stripe_event("evt_failed", "invoice.payment_failed",
                                               for_subscription(sub, "invoice.", due_date=DUE),
                                               created=DUE + 4 * 86400))
    assert failed.outcome == "suspended"
    return sub


@pytest.mark.parametrize("kind, obj", [
    ("customer.subscription.updated", {"status": "active"}),
    ("customer.subscription.created", {"status": "active"}),
    ("checkout.session.completed", {}),
    ("invoice.paid", {}),
])
def test_a_delayed_event_older_than_the_suspension_does_not_reinstate(bank, kind, obj) -> None:
    billing = billing_for(bank, FakeBillingGateway())
    sub = suspended_for_a_failed_payment(bank, billing)
    part = "subscription" if kind.startswith("customer.") else kind
    stale = billing.handle_event(stripe_event("evt_stale", kind, for_subscription(sub, part, **obj),
                                              created=DUE + 2 * 86400))
    assert stale.outcome == "ignored: older than the last provider event applied (evt_failed)"
    assert status(bank, sub) == "suspended"
    assert billing.handle_event(stripe_event("evt_stale", kind, {})).duplicate  # the receipt is kept


def test_a_newer_update_after_the_suspension_reinstates(bank) -> None:
    billing = billing_for(bank, FakeBillingGateway())
    sub = suspended_for_a_failed_payment(bank, billing)
    fresh = billing.handle_event(stripe_event("evt_new", "customer.subscription.updated",
                                              for_subscription(sub, "subscription", status="active"),
                                              created=DUE + 5 * 86400))
    assert fresh.outcome == "reinstated" and status(bank, sub) == "active"


def test_a_delayed_payment_failure_older_than_a_newer_payment_is_ignored(bank) -> None:
    billing = billing_for(bank, FakeBillingGateway())
    sub = paid_subscription(bank).subscription_id
    billing.handle_event(stripe_event("evt_updated", "customer.subscription.updated",
                                      for_subscription(sub, "subscription", status="active"),
                                      created=DUE + 6 * 86400))
    stale = billing.handle_event(stripe_event("evt_failed", "invoice.payment_failed",
                                              for_subscription(sub, "invoice.", due_date=DUE),
                                              created=DUE + 4 * 86400))
    assert stale.outcome.startswith("ignored: older") and status(bank, sub) == "active"


def test_events_the_bank_does_not_act_on_do_not_move_the_order(bank) -> None:
    billing = billing_for(bank, FakeBillingGateway())
    sub = paid_subscription(bank).subscription_id
    billing.handle_event(stripe_event("evt_paid", "checkout.session.completed",
                                      for_subscription(sub, "checkout.session.completed"),
                                      created=DUE - 86400))
    billing.handle_event(stripe_event("evt_final", "invoice.finalized", for_subscription(sub, "invoice."),
                                      created=DUE + 9 * 86400))
    failed = billing.handle_event(stripe_event("evt_failed", "invoice.payment_failed",
                                               for_subscription(sub, "invoice.", due_date=DUE),
                                               created=DUE + 4 * 86400))
    assert failed.outcome == "suspended"


def test_two_events_of_the_same_second_are_both_applied(bank) -> None:
    billing = billing_for(bank, FakeBillingGateway())
    sub = suspended_for_a_failed_payment(bank, billing)
    same = billing.handle_event(stripe_event("evt_same", "invoice.paid", for_subscription(sub, "invoice."),
                                             created=DUE + 4 * 86400))
    assert same.outcome == "reinstated"
