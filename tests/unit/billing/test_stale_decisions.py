"""A change billing decided on an older state of the subscription never lands on a newer one.

Two deliveries of one failed-payment event: A decides "suspend" and stalls; B suspends, and the
next paid invoice reinstates. When A resumes, its suspension must not land on the reinstated
subscription (Stripe's order says active): the change is bound to the version A decided on.
"""

from __future__ import annotations

import time

import pytest

from domain.errors import InvalidStateError
from marketplace.billing.events import ProviderEvent
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from support.billing import WEBHOOK_SECRET, for_subscription, paid_subscription, stripe_event


def test_a_stale_suspension_does_not_land_on_a_reinstated_subscription() -> None:
    bank = build_in_memory(Settings(stripe_webhook_secret=WEBHOOK_SECRET))
    try:
        sid = paid_subscription(bank).subscription_id
        billing = bank.billing
        assert billing is not None
        now = int(time.time())
        billing.handle_event(stripe_event("e0", "checkout.session.completed",
                                          for_subscription(sid, "checkout.session.completed"),
                                          created=now - 100))
        failed = ProviderEvent.parse(stripe_event(
            "e1", "invoice.payment_failed",
            for_subscription(sid, "invoice.", invoice_id="in_1", due_date=now - 5 * 86400),
            created=now - 50))
        stale = billing._decide(failed)  # delivery A decides "suspend" ... and stalls
        assert stale.outcome == "suspended" and stale.change is not None

        assert billing.handle_event(failed).outcome == "suspended"  # delivery B
        assert billing.handle_event(stripe_event(
            "e2", "invoice.paid", for_subscription(sid, "invoice.", invoice_id="in_2"),
            created=now - 10)).outcome == "reinstated"
        assert bank.subscriptions.get_subscription(sid).status == "active"

        with pytest.raises(InvalidStateError, match="changed since"):
            stale.change()  # A resumes: refused, so handle_event would decide again

        assert bank.subscriptions.get_subscription(sid).status == "active"
        assert billing.handle_event(failed).duplicate  # A, handled again, finds B's receipt
    finally:
        bank.close()
