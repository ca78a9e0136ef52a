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
    return bank.marketplace.get_subscription(subscription_id).status


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
    return [type(e).__qualname__ for e in bank.marketplace.repository.event_store.get(UUID(subscription_id))]


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
