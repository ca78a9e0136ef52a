"""Billing steps (features/billing/): a bank of its own with a Stripe webhook secret and the
fake billing gateway; webhooks are delivered over HTTP, signed with stripe.WebhookSignature as
Stripe signs them."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, then, when
from starlette.testclient import TestClient

from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app


def _billing(world: dict) -> dict:
    return world["billing"]


def _deliver(world: dict, kind: str, obj: dict, *, created: int | None = None,
             event_id: str | None = None) -> dict:
    from support.billing import signed, stripe_event

    state = _billing(world)
    state["events"] += 1
    # Stripe's clock: events go out a minute apart unless a step dates one (a late delivery).
    if created is None:
        created = state["clock"] = state["clock"] + 60
    state["clock"] = max(state["clock"], created)
    event = stripe_event(event_id or f"evt_{state['events']}", kind, obj, created=created)
    body, header = signed(event)
    answer = state["http"].post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    state["answers"].append(answer.status_code)
    return answer.json()


def _about(world: dict, kind: str, **fields: Any) -> dict:
    from support.billing import for_subscription

    return for_subscription(_billing(world)["paid"].subscription_id, kind, **fields)


@given(parsers.parse("a startup subscribed to a plan of {monthly:d} fen a month and {per_1k:d} fen per 1000 rows"))
def paid_plan_subscription(world: dict, request: Any, monthly: int, per_1k: int) -> None:
    """A bank with webhooks on and the fake gateway; a startup's subscription awaits payment."""
    from support import billing as support
    from support.fake_billing import FakeBillingGateway

    assert (monthly, per_1k) == (support.PAID_PRICE["monthly_fee_fen"], support.PAID_PRICE["per_1k_rows_fen"])
    bank = build_in_memory(Settings(stripe_webhook_secret=support.WEBHOOK_SECRET, payment_grace_hours=72))
    request.addfinalizer(bank.close)
    bank.billing.gateway = gateway = FakeBillingGateway()
    paid = support.paid_subscription(bank)
    bank.billing.start_checkout(paid.subscription_id, by=paid.member)
    world["billing"] = {"bank": bank, "paid": paid, "gateway": gateway, "events": 0, "answers": [],
                        "clock": INVOICE_DUE - 30 * 86400,
                        "http": TestClient(create_app(bank, start_followers=False))}


@when("Stripe reports the checkout completed")
@given("Stripe reported the checkout completed")
def checkout_completed(world: dict) -> None:
    _deliver(world, "checkout.session.completed", _about(world, "checkout.session.completed"))


@when(parsers.parse("the startup is served {rows:d} rows"))
def served_rows(world: dict, rows: int) -> None:
    """Rows go through the quota ledger; the fed batch reaches the meter and the gateway."""
    from datetime import datetime, timezone

    from domain.metering import period_of

    state = _billing(world)
    bank, subscription_id = state["bank"], state["paid"].subscription_id
    now = datetime.now(timezone.utc)
    for _ in range(2):
        bank.ledger.reserve(subscription_id, period_of(now), rows_wanted=rows // 2, rows_quota=None,
                            calls_quota=None, rate_limit_per_minute=None, now=now, final=True)
    batch = bank.ledger.claim_feed_batch(1000, grace_seconds=0)
    bank.metering.record_batch(batch)
    state["report"] = bank.billing.send_usage(batch)
    bank.ledger.mark_fed(batch.number)


@then(parsers.parse("Stripe was sent {rows:d} rows under one usage identifier"))
def rows_sent(world: dict, rows: int) -> None:
    state = _billing(world)
    [identifier] = state["report"].acknowledged
    assert identifier.startswith("usage-") and state["gateway"].usage[identifier].rows == rows


@when("Stripe reports the invoice paid")
def invoice_paid(world: dict) -> None:
    _deliver(world, "invoice.paid", _about(world, "invoice."))


INVOICE_DUE = 1_790_000_000


@when(parsers.parse("Stripe reports a failed payment {days:d} day after the invoice fell due"))
@when(parsers.parse("Stripe reports a failed payment {days:d} days after the invoice fell due"))
@given(parsers.parse("Stripe reported a failed payment {days:d} days after the invoice fell due"))
def payment_failed(world: dict, days: int) -> None:
    _deliver(world, "invoice.payment_failed", _about(world, "invoice.", due_date=INVOICE_DUE),
             created=INVOICE_DUE + days * 86400)


@when(parsers.parse('Stripe delivers late a "subscription updated" to "{status}" it sent {days:d} days '
                    "after the invoice fell due"))
def late_subscription_update(world: dict, status: str, days: int) -> None:
    answer = _deliver(world, "customer.subscription.updated", _about(world, "subscription", status=status),
                      created=INVOICE_DUE + days * 86400)
    assert answer["outcome"].startswith("ignored: older"), answer


@when(parsers.parse("Stripe delivers late a checkout completion it sent {days:d} day after the invoice fell due"))
def late_checkout_completion(world: dict, days: int) -> None:
    answer = _deliver(world, "checkout.session.completed", _about(world, "checkout.session.completed"),
                      created=INVOICE_DUE + days * 86400)
    assert answer["outcome"].startswith("ignored: older"), answer


@then(parsers.parse('the paid subscription is "{status}"'))
def paid_status(world: dict, status: str) -> None:
    state = _billing(world)
    assert state["bank"].subscriptions.get_subscription(state["paid"].subscription_id).status == status


@then(parsers.parse('the paid subscription is "{status}" because the payment failed'))
def paid_status_because(world: dict, status: str) -> None:
    state = _billing(world)
    subscription = state["bank"].subscriptions.get_subscription(state["paid"].subscription_id)
    assert subscription.status == status and subscription.reason.startswith("payment failed")


@then("the organisation is told its subscription was suspended")
def told_suspended(world: dict) -> None:
    """The suspension reaches the organisation's notifications (the entitlements read model)."""
    state = _billing(world)
    bank, paid = state["bank"], state["paid"]
    bank.entitlements_follower.catch_up()
    notices = bank.entitlements_view.notifications_of(paid.organisation_id)
    assert [(n["kind"], n["subscription_id"]) for n in notices][:1] == [
        ("subscription_suspended", paid.subscription_id)]
    assert notices[0]["reason"].startswith("payment failed")


@when(parsers.parse('Stripe delivers the subscription update "{updated}" before its creation "{created}"'))
def out_of_order(world: dict, updated: str, created: str) -> None:
    _deliver(world, "customer.subscription.updated", _about(world, "subscription", status=updated))
    _deliver(world, "customer.subscription.created", _about(world, "subscription", status=created))


@when(parsers.parse("Stripe delivers the same checkout completion {times:d} times"))
def repeated_delivery(world: dict, times: int) -> None:
    for _ in range(times):
        _deliver(world, "checkout.session.completed", _about(world, "checkout.session.completed"),
                 event_id="evt_checkout_repeated")


@then(parsers.parse("every delivery was answered {status:d}"))
def all_answered(world: dict, status: int) -> None:
    assert _billing(world)["answers"] and set(_billing(world)["answers"]) == {status}


@then("the paid subscription was activated once")
def activated_once(world: dict) -> None:
    from uuid import UUID

    state = _billing(world)
    events = state["bank"].market.repository.event_store.get(UUID(state["paid"].subscription_id))
    assert [type(e).__qualname__ for e in events].count("Subscription.Activated") == 1
