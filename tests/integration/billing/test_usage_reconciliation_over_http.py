"""Usage to Stripe end to end: the feed sends meter events through the real ``stripe`` library to
our fake Stripe; failures past the retries are queued, the reconciler re-sends them with the same
identifiers, and every identifier reaches Stripe exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from domain.metering import period_of
from marketplace.billing.service import Billing
from marketplace.billing.adapters.stripe_gateway import StripeGateway, make_client
from marketplace.bootstrap import build_in_memory
from support.billing import paid_subscription
from support.fake_stripe import FakeStripe, serve

EVENTS = "/v1/billing/meter_events"
NOW = datetime.now(timezone.utc)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    state = FakeStripe()
    server, thread = serve(state)
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def bank():
    bank = build_in_memory()
    yield bank
    bank.close()


def billed(bank, fake: FakeStripe) -> tuple[Billing, str]:
    """A paid subscription checked out at the fake Stripe; billing listens to the feed."""
    gateway = StripeGateway(make_client("sk_test_fake", api_base=fake.url, timeout=0.5,
                                        max_network_retries=1))
    billing = Billing(subscriptions=bank.subscriptions, organisations=bank.organisations,
                      metering=bank.metering, gateway=gateway,
                      grace=timedelta(days=3), records=bank.billing.records)
    paid = paid_subscription(bank)
    billing.start_checkout(paid.subscription_id, by=paid.member)
    bank.metering.on_fed.append(billing.send_usage)
    return billing, paid.subscription_id


def serve_rows(bank, subject: str, rows: int) -> None:
    bank.ledger.reserve(subject, period_of(NOW), rows_wanted=rows, rows_quota=None, calls_quota=None,
                        rate_limit_per_minute=None, now=NOW, final=True)


def outcome(bank, identifier: str) -> str:
    return bank.billing.records.delivery(identifier).outcome


def test_each_fed_batch_reaches_stripe_as_one_meter_event_per_paid_subscription(bank, fake) -> None:
    _, a = billed(bank, fake)
    for subject, rows in ((a, 100), ("not-a-paid-subscription", 40), (a, 60)):
        serve_rows(bank, subject, rows)
    bank.metering.feed(grace_seconds=0)
    assert list(fake.meter_events) == ["usage-1-3"]
    assert fake.meter_events["usage-1-3"]["payload[value]"] == "160"
    assert [r.idempotency_key for r in fake.posts(EVENTS)] == ["usage-1-3"]


def test_stripe_down_past_the_retries_queues_the_usage_and_the_reconciler_sends_it_once(
        bank, fake) -> None:
    billing, a = billed(bank, fake)
    fake.fail(EVENTS, 500, times=2)  # the first event's try and its one retry
    serve_rows(bank, a, 10)
    bank.metering.feed(grace_seconds=0)
    serve_rows(bank, a, 20)
    bank.metering.feed(grace_seconds=0)
    assert (outcome(bank, "usage-1-1"), outcome(bank, "usage-2-2")) == ("failed", "acknowledged")
    fake.slow(EVENTS, 1.0, times=2)  # a timeout and its retry: processed, answered too late
    report = billing.reconcile()
    assert report.failed.keys() == {"usage-1-1"} and outcome(bank, "usage-1-1") == "failed"
    report = billing.reconcile()
    assert (report.charges, report.acknowledged, report.resent, report.failed) == (2, 1, ["usage-1-1"], {})
    assert sorted(fake.meter_events) == ["usage-1-1", "usage-2-2"]
    assert fake.meter_events["usage-1-1"]["payload[value]"] == "10"
    assert {r.idempotency_key for r in fake.posts(EVENTS)} == {"usage-1-1", "usage-2-2"}


def test_a_meter_event_stripe_rejects_is_kept_and_reported_not_resent(bank, fake) -> None:
    billing, a = billed(bank, fake)
    fake.reject("usage-1-1")
    serve_rows(bank, a, 10)
    bank.metering.feed(grace_seconds=0)
    posted = len(fake.posts(EVENTS))
    report = billing.reconcile()
    assert list(report.rejected) == ["usage-1-1"] and "refused" in report.rejected["usage-1-1"]
    assert len(fake.posts(EVENTS)) == posted and outcome(bank, "usage-1-1") == "rejected"
