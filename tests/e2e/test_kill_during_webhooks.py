"""kill -9 while Stripe's webhooks are being handled (issue 11), on SQLite and PostgreSQL.

A server configured with Stripe (pointed at the fake Stripe) receives the signed events of twelve
paid subscriptions: activation, invoices paid and failed (suspension), reinstatement, provider
status updates, cancellation (expiry), and events the bank does not act on. Each subscription's
events go out in Stripe's order, each one delivered twice at once (Stripe delivers at least once;
a retry can overlap the first delivery), all subscriptions concurrently. Once some events are
acknowledged the server is killed with SIGKILL, others in flight. Before anything is redelivered,
every event acknowledged with a 2xx must have its receipt (acknowledged ⇒ recorded). Then a new
server on the same data gets EVERY event again, in Stripe's order per subscription (Stripe
redelivers what was not acknowledged; redelivering the acknowledged ones too must change nothing),
and then all of them once more in a shuffled order, which must all be duplicates. Finally: one
receipt per event id, each subscription in the status Stripe's order implies, with exactly the
transitions that order implies (none doubled, none lost), the entitlements read model (over the
API) agreeing, and ``databank verify`` clean.

Why in Stripe's order per subscription: the watermark rule (billing/service.py) ignores an event
older than the newest applied, and a payment failure only suspends an active subscription, so
the status after a reordered stream is not the status of Stripe's order by design. Stripe sends
one subscription's events seconds apart; the concurrency that matters here is across
subscriptions and between two deliveries of one event.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from access_setup import bank_on, database_url
from support.billing import (
    PAID_PRICE,
    WEBHOOK_SECRET,
    for_subscription,
    signed,
    stripe_event,
)
from support.fake_stripe import FakeStripe, serve
from support.marketplace import ADMIN, PASSWORD, member_with_organisation, set_up_market
from support.waiting import wait_until

from domain.billing import BillingEventReceipt

pytestmark = [pytest.mark.e2e]

SUBSCRIPTIONS = 12
#: Acknowledged events before the kill: about a third of them, so that many are still to come.
KILL_AFTER = 35
#: 5xx answers (handling gave up after colliding saves) Stripe would retry; more is a bug.
RETRIES = 5
FOUR_DAYS = 4 * 24 * 3600  # a failed invoice this long overdue is past the 72 h grace

#: One subscription's life at Stripe, in Stripe's order: (event type, object fields, the status
#: it leaves the subscription in). Subscription ``i`` gets a prefix of it, so the twelve end in
#: every status the stream can reach.
STORY: list[tuple[str, dict[str, Any], str]] = [
    ("checkout.session.completed", {}, "active"),
    ("invoice.paid", {}, "active"),
    ("invoice.payment_failed", {"overdue": True}, "suspended"),
    ("invoice.paid", {}, "active"),
    ("customer.subscription.updated", {"status": "active"}, "active"),
    ("invoice.payment_failed", {"overdue": True}, "suspended"),
    ("invoice.created", {}, "suspended"),  # not an event the bank acts on
    ("invoice.paid", {}, "active"),
    ("invoice.payment_failed", {"overdue": True}, "suspended"),
    ("customer.subscription.updated", {"status": "past_due"}, "suspended"),  # noted only
    ("invoice.paid", {}, "active"),
    ("customer.subscription.deleted", {"status": "canceled"}, "expired"),
    ("invoice.paid", {}, "expired"),  # after the end: ignored
]
LENGTHS = [13, 12, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1]
#: The Subscription aggregate's event for each status change (domain/subscription.py).
TRANSITIONS = {("pending_payment", "active"): "Activated", ("active", "suspended"): "Suspended",
               ("suspended", "active"): "Reinstated", ("active", "expired"): "Expired",
               ("suspended", "expired"): "Expired"}

SUBSCRIPTIONS_QUERY = "query { subscriptions { id status } }"
LOGIN = """mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { token errors { code } }
}"""


@dataclass
class Subscriber:
    email: str
    subscription_id: str
    events: list[dict[str, Any]]
    statuses: list[str]  # after each event, in Stripe's order

    @property
    def final_status(self) -> str:
        return self.statuses[-1]

    def transitions(self) -> list[str]:
        """The Subscription events Stripe's order implies after the start: one per change."""
        out, before = [], "pending_payment"
        for after in self.statuses:
            if after != before:
                out.append(TRANSITIONS[(before, after)])
            before = after
        return out


def _events(subscription_id: str, n: int, length: int, base: int) -> tuple[list[dict], list[str]]:
    events, statuses = [], []
    for step, (kind, fields, status) in enumerate(STORY[:length]):
        created = base + 10 * step  # Stripe's order: its ``created``, seconds apart
        obj_fields = {k: v for k, v in fields.items() if k != "overdue"}
        if kind.startswith("invoice."):
            obj_fields["invoice_id"] = f"in_{n:02d}_{step:02d}"
            if fields.get("overdue"):
                obj_fields["due_date"] = created - FOUR_DAYS
        events.append(stripe_event(f"evt_{n:02d}_{step:02d}", kind,
                                   for_subscription(subscription_id, kind, **obj_fields),
                                   created=created))
        statuses.append(status)
    return events, statuses


def _set_up(url: str | None, data_dir: Path, base: int) -> list[Subscriber]:
    """Twelve startups, each a member subscribed (pending payment) to one paid plan."""
    with bank_on(url, data_dir) as bank:
        market = set_up_market(bank)
        plan = bank.licensing.define_plan(
            asset_id=market.assets["unconditional"], name="商用月度",
            licence_template_id=market.templates["commercial"], price=PAID_PRICE,
            quotas={"rows_per_month": 100_000}, overage="bill", field_tier="masked", by=ADMIN)
        subscribers = []
        for n, length in enumerate(LENGTHS):
            email = f"founder{n}@startup{n}.example"
            member, organisation_id = member_with_organisation(bank, email=email, n=100 + n)
            subscription = bank.subscriptions.subscribe(organisation_id, str(plan.id),
                                                        accepted_terms_version=1, by=member)
            sid = str(subscription.id)
            events, statuses = _events(sid, n, length, base + 1000 * n)
            subscribers.append(Subscriber(email, sid, events, statuses))
        return subscribers


def _deliver(http: httpx.Client, event: dict[str, Any]) -> httpx.Response:
    """One delivery, signed now (as Stripe signs each attempt)."""
    body, header = signed(event)
    return http.post("/webhooks/stripe", content=body,
                     headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def _deliver_until_acknowledged(http: httpx.Client, event: dict[str, Any]) -> dict[str, Any]:
    """Deliver until a 2xx, as Stripe retries a 5xx; anything else fails the test."""
    for _ in range(RETRIES):
        response = _deliver(http, event)
        if response.is_success:
            return response.json()
        assert response.status_code >= 500, (event["id"], response.status_code, response.text)
    raise AssertionError(f"{event['id']} was not acknowledged after {RETRIES} deliveries")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """The database URL (None: the embedded SQLite store)."""
    if request.param == "sqlite":
        return None
    return database_url(request.getfixturevalue("postgres_url"),
                        request.getfixturevalue("postgres_schema"))


@pytest.fixture
def fake_stripe():
    fake = FakeStripe()
    server, thread = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.slow
def test_a_server_killed_while_handling_webhooks_loses_and_doubles_nothing(
        backend: str | None, launcher, fake_stripe: FakeStripe, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stripe_env = {"DATABANK_STRIPE_API_KEY": "sk_test_fake",
                  "DATABANK_STRIPE_API_BASE": fake_stripe.url,
                  "DATABANK_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    launcher.cli(data_dir, "migrate", database_url=backend)  # the set-up below creates no tables
    base = int(time.time()) - 100_000  # events Stripe created over the last day
    subscribers = _set_up(backend, data_dir, base)
    every_event = [e for s in subscribers for e in s.events]
    server = launcher.serve(data_dir, database_url=backend, environment=stripe_env)

    acknowledged: set[str] = set()
    in_flight: set[str] = set()
    outcomes: Counter = Counter()
    lock = threading.Lock()
    pool = ThreadPoolExecutor(max_workers=2 * SUBSCRIPTIONS)

    def stream(subscriber: Subscriber) -> None:
        """Stripe's deliveries of one subscription: in order, each event twice at once."""
        with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
            for event in subscriber.events:
                for _ in range(RETRIES):
                    answers = [pool.submit(_deliver, http, event) for _ in range(2)]
                    responses = []
                    for answer in answers:
                        try:
                            responses.append(answer.result())
                        except httpx.HTTPError as exc:  # the kill: never answered
                            with lock:
                                outcomes[type(exc).__name__] += 1
                                in_flight.add(event["id"])
                    with lock:
                        for response in responses:
                            outcomes[f"HTTP {response.status_code}"] += 1
                            if response.is_success:
                                acknowledged.add(event["id"])
                    if len(responses) < 2:
                        return
                    if any(r.is_success for r in responses):
                        break

    threads = [threading.Thread(target=stream, args=(s,)) for s in subscribers]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(acknowledged) >= KILL_AFTER, what="webhooks being acknowledged",
                   interval=0.005)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        for thread in threads:
            thread.join(30)
        pool.shutdown(wait=True)
    assert not any(t.is_alive() for t in threads)
    with lock:
        acknowledged_at_kill, in_flight_at_kill = set(acknowledged), set(in_flight)
    # The kill landed mid-stream: deliveries were in flight and events were still to come.
    assert in_flight_at_kill, outcomes
    assert len(acknowledged_at_kill) < len(every_event), outcomes
    assert not [o for o in outcomes if o.startswith("HTTP 4")], outcomes
    print(f"\n{len(every_event)} events; acknowledged before the kill: "
          f"{len(acknowledged_at_kill)}; in flight: {len(in_flight_at_kill)}; {dict(outcomes)}")

    # Acknowledged ⇒ recorded: before anything is delivered again.
    with bank_on(backend, data_dir) as bank:
        unrecorded = sorted(e for e in acknowledged_at_kill if bank.billing.records.receipt(e) is None)
    assert unrecorded == [], f"acknowledged without a receipt: {unrecorded}"

    # Stripe delivers again; every event, in its order per subscription.
    server = launcher.serve(data_dir, database_url=backend, environment=stripe_env)

    def redeliver(subscriber: Subscriber) -> list[dict[str, Any]]:
        with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
            return [_deliver_until_acknowledged(http, e) for e in subscriber.events]

    with ThreadPoolExecutor(max_workers=SUBSCRIPTIONS) as redelivery:
        answered = [a for answers in redelivery.map(redeliver, subscribers) for a in answers]
    duplicates = {a["event"] for a in answered if a["duplicate"]}
    assert acknowledged_at_kill <= duplicates, sorted(acknowledged_at_kill - duplicates)

    # And all once more, in any order: every one is a duplicate now and changes nothing.
    shuffled = list(every_event)
    random.Random(11).shuffle(shuffled)

    def again(event: dict[str, Any]) -> dict[str, Any]:
        with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
            return _deliver_until_acknowledged(http, event)

    with ThreadPoolExecutor(max_workers=8) as redelivery:
        assert all(a["duplicate"] for a in redelivery.map(again, shuffled))

    # The entitlements read model, over the API, agrees with Stripe's order.
    with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
        for subscriber in subscribers:
            login = http.post("/graphql", json={"query": LOGIN, "variables": {
                "username": subscriber.email, "password": PASSWORD}}).json()
            token = login["data"]["login"]["token"]
            assert token, login

            def listed(token: str = token) -> list[dict[str, str]]:
                body = http.post("/graphql", json={"query": SUBSCRIPTIONS_QUERY},
                                 headers={"Authorization": f"Bearer {token}"}).json()
                assert "errors" not in body, body
                return body["data"]["subscriptions"]

            expected = [{"id": subscriber.subscription_id, "status": subscriber.final_status.upper()}]
            wait_until(lambda expected=expected: listed() == expected, what=f"{subscriber.email}'s subscription "
                                                          f"listed as {expected}")
    server.stop()

    receipt_topic = "domain.billing:BillingEventReceipt.Handled"
    with bank_on(backend, data_dir) as bank:
        records = bank.billing.records
        # Exactly one receipt per event id: one Handled event for each, none for anything else.
        handled = Counter(n.originator_id for n in records.recorder.select_notifications(
            start=1, limit=1_000_000, topics=[receipt_topic]))
        expected_receipts = Counter(BillingEventReceipt.create_id(e["id"]) for e in every_event)
        assert handled == expected_receipts
        market = bank.subscriptions.market
        for subscriber in subscribers:
            subscription = bank.subscriptions.get_subscription(subscriber.subscription_id)
            assert subscription.status == subscriber.final_status, subscriber.subscription_id
            # Every change Stripe's order implies, once: none lost, none doubled.
            topics = [e.topic.rsplit(".", 1)[-1] for e in
                      market.recorder.select_events(UUID(subscriber.subscription_id))]
            assert topics[1:] == subscriber.transitions(), (subscriber.subscription_id, topics)
    # The logins above rewrote the members' password hashes (the set-up's were cheap) up to the
    # stop, which does not wait for the read models: the next start catches them up, as after
    # the kill.
    launcher.serve(data_dir, database_url=backend, environment=stripe_env).stop()
    report = launcher.cli(data_dir, "verify", database_url=backend)
    assert report.startswith("verified:"), report
