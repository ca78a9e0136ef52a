"""Billing keeps its own event store: its records never land in the Marketplace's, and a crash
between the subscription change (the Marketplace's store) and the receipt (billing's) is healed by
the provider's redelivery without changing anything twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.billing import for_subscription, paid_subscription, stripe_event
from support.fake_billing import FakeBillingGateway

from marketplace.billing.records_move import billing_topics, copy_billing_events
from marketplace.billing.service import Billing
from marketplace.bootstrap import build_in_memory

DUE = 1_790_000_000


@pytest.fixture
def bank():
    bank = build_in_memory()
    yield bank
    bank.close()


def billing_for(bank) -> Billing:
    return Billing(subscriptions=bank.subscriptions, organisations=bank.organisations,
                   metering=bank.metering, gateway=FakeBillingGateway(),
                   grace=timedelta(days=3), records=bank.billing.records)


def checkout(sub: str, created: int = DUE - 86400) -> dict:
    return stripe_event("evt_checkout", "checkout.session.completed",
                        for_subscription(sub, "checkout.session.completed"), created=created)


def payment_failed(sub: str) -> dict:
    return stripe_event("evt_failed", "invoice.payment_failed",
                        for_subscription(sub, "invoice.", due_date=DUE), created=DUE + 4 * 86400)


def paid_again(sub: str) -> dict:
    return stripe_event("evt_paid", "invoice.paid", for_subscription(sub, "invoice."),
                        created=DUE + 5 * 86400)


def deleted(sub: str) -> dict:
    return stripe_event("evt_deleted", "customer.subscription.deleted",
                        for_subscription(sub, "subscription", status="canceled"),
                        created=DUE + 6 * 86400)


#: (the events handled before, the event whose handling crashes, what it did)
CASES = {
    "activation": ([], checkout, "active"),
    "suspension": ([checkout], payment_failed, "suspended"),
    "reinstatement": ([checkout, payment_failed], paid_again, "active"),
    "expiry": ([checkout], deleted, "expired"),
}


class Crash(Exception):
    """The process dies after the Marketplace saved the change, before billing's save."""


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_crash_after_the_subscription_change_before_the_receipt_changes_nothing_more_on_redelivery(
        bank, monkeypatch, case) -> None:
    before, crashing, changed_to = CASES[case]
    sub = paid_subscription(bank).subscription_id
    billing = billing_for(bank)
    for event in before:
        billing.handle_event(event(sub))

    def crash(*_aggregates: object) -> None:
        raise Crash()

    with monkeypatch.context() as patched:
        patched.setattr(billing.records, "save", crash)
        with pytest.raises(Crash):
            billing.handle_event(crashing(sub))
    changed = bank.subscriptions.get_subscription(sub)
    assert changed.status == changed_to  # the change was saved; no receipt was
    assert billing.records.receipt(crashing(sub)["id"]) is None

    redelivered = billing.handle_event(crashing(sub))
    again = bank.subscriptions.get_subscription(sub)
    assert not redelivered.duplicate
    assert (again.version, again.status, again.reason) == (changed.version, changed.status,
                                                           changed.reason)
    assert billing.records.receipt(crashing(sub)["id"]) is not None
    assert billing.handle_event(crashing(sub)).duplicate


def test_billing_records_are_saved_in_billings_store_not_the_marketplaces(bank) -> None:
    paid = paid_subscription(bank)
    billing = billing_for(bank)
    billing.start_checkout(paid.subscription_id, by=paid.member)
    billing.handle_event(checkout(paid.subscription_id))
    topics = billing_topics()
    assert bank.market.recorder.select_notifications(1, 100, topics=topics) == []
    kept = {n.topic for n in billing.records.recorder.select_notifications(1, 100, topics=topics)}
    assert kept == {"domain.billing:BillingAccount.Opened", "domain.billing:BillingEventReceipt.Handled",
                    "domain.billing:ProviderEventWatermark.Started"}
    assert billing.records.account(paid.organisation_id) is not None
    assert bank.subscriptions.get_subscription(paid.subscription_id).status == "active"


def test_the_copy_is_skipped_when_billings_store_holds_anything(bank) -> None:
    paid = paid_subscription(bank)
    billing = billing_for(bank)
    billing.start_checkout(paid.subscription_id, by=paid.member)
    assert copy_billing_events(bank.market.recorder, billing.records.recorder) == 0


def test_the_topics_are_every_billing_event_and_the_retired_ones() -> None:
    topics = billing_topics()
    assert all(t.startswith("domain.billing:") for t in topics)
    assert {"domain.billing:UsageDelivery.Resent", "domain.billing:InvoiceWatermark.Advanced",
            "domain.billing:PlanBilling.Linked"} <= set(topics)
