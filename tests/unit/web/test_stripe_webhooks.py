"""POST /webhooks/stripe: verified on the raw body, handled once, in any order."""

from __future__ import annotations

import json
import time
from uuid import UUID
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.billing import WEBHOOK_SECRET, for_subscription, paid_subscription, signed, stripe_event


@pytest.fixture
def bank():
    bank = build_in_memory(Settings(stripe_webhook_secret=WEBHOOK_SECRET))
    yield bank
    bank.close()


@pytest.fixture
def client(bank) -> Iterator[TestClient]:
    yield TestClient(create_app(bank, start_followers=False))


def deliver(client: TestClient, body: bytes, header: str):
    return client.post("/webhooks/stripe", content=body,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def completed(subscription_id: str, event_id: str = "evt_checkout") -> dict:
    return stripe_event(event_id, "checkout.session.completed",
                        for_subscription(subscription_id, "checkout.session.completed"))


def status(bank, subscription_id: str) -> str:
    return bank.subscriptions.get_subscription(subscription_id).status


def test_a_signed_checkout_completion_activates_the_subscription(bank, client) -> None:
    paid = paid_subscription(bank)
    answer = deliver(client, *signed(completed(paid.subscription_id)))
    assert answer.status_code == 200 and answer.json()["outcome"] == "activated"
    assert status(bank, paid.subscription_id) == "active"


def test_a_bad_signature_is_refused_and_changes_nothing(bank, client) -> None:
    paid = paid_subscription(bank)
    body, _ = signed(completed(paid.subscription_id))
    _, header = signed(completed(paid.subscription_id), secret="whsec_someone_else")
    assert deliver(client, body, header).status_code == 400
    assert status(bank, paid.subscription_id) == "pending_payment"


def test_a_stale_timestamp_is_refused_and_changes_nothing(bank, client) -> None:
    paid = paid_subscription(bank)
    body, header = signed(completed(paid.subscription_id), timestamp=int(time.time()) - 301)
    assert deliver(client, body, header).status_code == 400
    assert status(bank, paid.subscription_id) == "pending_payment"


def test_a_tampered_body_is_refused_and_changes_nothing(bank, client) -> None:
    paid = paid_subscription(bank)
    body, header = signed(stripe_event("evt_t", "invoice.payment_failed",
                                       for_subscription(paid.subscription_id, "invoice.")))
    tampered = json.loads(body)
    tampered["type"] = "checkout.session.completed"
    tampered["data"]["object"]["object"] = "checkout.session"
    assert deliver(client, json.dumps(tampered).encode(), header).status_code == 400
    assert status(bank, paid.subscription_id) == "pending_payment"


def test_a_missing_signature_is_refused(bank, client) -> None:
    paid = paid_subscription(bank)
    body, _ = signed(completed(paid.subscription_id))
    assert client.post("/webhooks/stripe", content=body).status_code == 400


def test_the_same_event_delivered_three_times_is_handled_once(bank, client) -> None:
    paid = paid_subscription(bank)
    delivery = signed(completed(paid.subscription_id))
    answers = [deliver(client, *delivery).json() for _ in range(3)]
    assert [a["duplicate"] for a in answers] == [False, True, True]
    stored = _stored(bank, paid.subscription_id)
    assert stored.count("Subscription.Activated") == 1


def _stored(bank, subscription_id: str) -> list[str]:
    """The names of the subscription's stored events."""
    return [type(e).__qualname__ for e in bank.market.repository.event_store.get(UUID(subscription_id))]


def test_an_update_before_the_creation_works_out(bank, client) -> None:
    paid = paid_subscription(bank)
    sub = paid.subscription_id
    updated = stripe_event("evt_u", "customer.subscription.updated",
                           for_subscription(sub, "subscription", status="active"))
    created = stripe_event("evt_c", "customer.subscription.created",
                           for_subscription(sub, "subscription", status="incomplete"))
    assert deliver(client, *signed(updated)).json()["outcome"] == "activated"
    assert deliver(client, *signed(created)).status_code == 200
    assert status(bank, sub) == "active"


def test_without_a_webhook_secret_the_endpoint_is_not_there() -> None:
    bank = build_in_memory()
    try:
        answer = TestClient(create_app(bank, start_followers=False)).post("/webhooks/stripe", content=b"{}")
        assert answer.status_code == 404
    finally:
        bank.close()


def test_a_delayed_subscription_update_does_not_reinstate_a_suspended_subscription(bank, client) -> None:
    sub = paid_subscription(bank).subscription_id
    due = 1_790_000_000
    deliver(client, *signed(stripe_event("evt_paid", "checkout.session.completed",
                                         for_subscription(sub, "checkout.session.completed"),
                                         created=due - 86400)))
    deliver(client, *signed(stripe_event("evt_failed", "invoice.payment_failed",
                                         for_subscription(sub, "invoice.", due_date=due),
                                         created=due + 4 * 86400)))
    assert status(bank, sub) == "suspended"
    stale = deliver(client, *signed(stripe_event("evt_stale", "customer.subscription.updated",
                                                 for_subscription(sub, "subscription", status="active"),
                                                 created=due + 2 * 86400)))
    assert stale.status_code == 200 and stale.json()["outcome"].startswith("ignored: older")
    assert status(bank, sub) == "suspended"


def _signed_text(text: str) -> tuple[bytes, str]:
    """A body of any text, correctly signed."""
    import stripe

    return text.encode(), stripe.WebhookSignature.generate_signature_header(text, WEBHOOK_SECRET)


def _event_without(*missing: str, **replaced) -> str:
    event = stripe_event("evt_odd", "invoice.paid", {"id": "in_1", "object": "invoice"})
    for key in missing:
        del event[key]
    event.update(replaced)
    return json.dumps(event)


@pytest.mark.parametrize("text, problem", [
    (_event_without("id"), "the event has no id"),
    (_event_without("type"), "the event has no type"),
    (_event_without(id=17), "the event has no id"),
    (_event_without(data=[1, 2]), "the event's data is not an object"),
    (_event_without(data="x"), "the event's data is not an object"),
    (_event_without(data={"object": "in_1"}), "the event's data.object is not an object"),
    (_event_without(created="yesterday"), "the event's created is not a time in epoch seconds"),
    (_event_without(created=True), "the event's created is not a time in epoch seconds"),
    (_event_without(created=1e300), "the event's created is not a time in epoch seconds"),
    (_event_without("created"), "the event's created is not a time in epoch seconds"),
    ("[1, 2, 3]", "the event is not a JSON object"),
    ("not json at all", "the body is not JSON"),
    ('{"id": "evt_1", "type": "invoice.paid"', "the body is not JSON"),
])
def test_a_signed_but_malformed_event_is_a_400_naming_the_problem(bank, client, text, problem) -> None:
    answer = deliver(client, *_signed_text(text))
    assert (answer.status_code, answer.json()) == (400, {"error": problem,
                                                         "requestId": answer.headers["X-Request-Id"]})


def test_a_signed_body_that_is_not_utf8_is_a_400(bank, client) -> None:
    import stripe

    body = b'{"id": "\xff\xfe"}'
    header = stripe.WebhookSignature.generate_signature_header(body.decode("latin-1"), WEBHOOK_SECRET)
    assert deliver(client, body, header).status_code == 400


def test_odd_fields_inside_the_object_are_treated_as_absent_not_a_crash(bank, client) -> None:
    event = stripe_event("evt_odd_meta", "invoice.payment_failed",
                         {"object": "invoice", "metadata": "x", "parent": [1], "due_date": "soon"})
    answer = deliver(client, *signed(event))
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored: not one of our subscriptions"
