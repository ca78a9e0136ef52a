"""The Stripe adapter drives the real ``stripe`` library over HTTP against our fake Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from marketplace.billing import CheckoutRequest, Customer, PlanPricing, UsageCharge
from marketplace.billing.adapters.stripe_gateway import StripeGateway, make_client
from support.fake_stripe import FakeStripe, serve

PLAN = PlanPricing(plan_id="plan-1", name="商用月度套餐",
                   price={"monthly_fee_fen": 9900, "per_1k_rows_fen": 250, "per_call_fen": 0})
AT = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    state = FakeStripe()
    server, thread = serve(state)
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(make_client("sk_test_fake", api_base=fake.url, timeout=0.5,
                                     max_network_retries=2))


def charge(identifier: str, rows: int = 1500) -> UsageCharge:
    return UsageCharge(identifier=identifier, subscription_id="sub-1", customer_id="cus_1",
                       period="2026-11", rows=rows, at=AT)


def test_a_plan_gets_a_product_a_licensed_fee_and_a_metered_price_on_the_rows_meter(
        fake: FakeStripe, gateway: StripeGateway) -> None:
    ids = gateway.ensure_product_and_prices(PLAN)
    [meter] = fake.of_kind("billing.meter")
    assert meter["event_name"] == "databank_rows"
    assert meter["default_aggregation"] == {"formula": "sum"}
    assert meter["customer_mapping"] == {"type": "by_id", "event_payload_key": "stripe_customer_id"}
    assert meter["value_settings"] == {"event_payload_key": "value"}
    monthly = fake.objects[ids.monthly_price_id]
    rows = fake.objects[ids.rows_price_id]
    assert (monthly["unit_amount"], monthly["currency"], monthly["recurring"]["usage_type"]) == (9900, "cny", "licensed")
    assert rows["recurring"] == {"interval": "month", "usage_type": "metered", "meter": meter["id"]}
    assert rows["unit_amount_decimal"] == "0.25"
    assert ids.product_id == "databank-plan-plan-1" and ids.meter_id == meter["id"]


def test_ensuring_a_plan_twice_creates_nothing_new(fake: FakeStripe, gateway: StripeGateway) -> None:
    first = gateway.ensure_product_and_prices(PLAN)
    again = StripeGateway(gateway.client).ensure_product_and_prices(PLAN)
    assert again == first
    assert len(fake.of_kind("price")) == 2 and len(fake.of_kind("billing.meter")) == 1


def test_checkout_is_a_subscription_session_carrying_our_subscription_id(
        fake: FakeStripe, gateway: StripeGateway) -> None:
    ids = gateway.ensure_product_and_prices(PLAN)
    customer = gateway.ensure_customer(Customer("org-1", "六安创新科技有限公司"))
    url = gateway.checkout_session(CheckoutRequest("sub-1", customer, ids),
                                   "https://bank/ok", "https://bank/cancel")
    [post] = fake.posts("/v1/checkout/sessions")
    assert url.startswith(fake.url + "/checkout/cs_test_")
    assert post.form["mode"] == "subscription"
    assert post.form["customer"] == customer
    assert post.form["client_reference_id"] == "sub-1"
    assert post.form["subscription_data[metadata][databank_subscription_id]"] == "sub-1"
    assert post.form["line_items[0][price]"] == ids.monthly_price_id
    assert post.form["line_items[1][price]"] == ids.rows_price_id
    assert "line_items[1][quantity]" not in post.form


def test_the_portal_opens_for_the_customer(fake: FakeStripe, gateway: StripeGateway) -> None:
    url = gateway.portal_session("cus_9", "https://bank/billing")
    assert url.startswith(fake.url + "/portal/")
    assert fake.posts("/v1/billing_portal/sessions")[0].form["customer"] == "cus_9"


def test_a_meter_event_carries_our_batch_id_as_identifier_and_idempotency_key(
        fake: FakeStripe, gateway: StripeGateway) -> None:
    report = gateway.send_usage([charge("usage-1-40")])
    [post] = fake.posts("/v1/billing/meter_events")
    assert report.acknowledged == ["usage-1-40"]
    assert post.form["identifier"] == post.idempotency_key == "usage-1-40"
    assert post.form["payload[value]"] == "1500"
    assert post.form["payload[stripe_customer_id]"] == "cus_1"
    assert post.form["timestamp"] == str(int(AT.timestamp()))


@pytest.mark.parametrize("status", [500, 409])
def test_a_failing_stripe_is_retried_with_the_same_idempotency_key(
        fake: FakeStripe, gateway: StripeGateway, status: int) -> None:
    fake.fail("/v1/billing/meter_events", status)
    report = gateway.send_usage([charge("usage-41-80")])
    posts = fake.posts("/v1/billing/meter_events")
    assert report.acknowledged == ["usage-41-80"]
    assert len(posts) == 2 and {p.idempotency_key for p in posts} == {"usage-41-80"}
    assert list(fake.meter_events) == ["usage-41-80"]


def test_a_timeout_is_retried_and_the_replay_bills_once(fake: FakeStripe, gateway: StripeGateway) -> None:
    fake.slow("/v1/billing/meter_events", 1.0)
    report = gateway.send_usage([charge("usage-81-90")])
    assert report.acknowledged == ["usage-81-90"]
    assert len(fake.posts("/v1/billing/meter_events")) >= 2
    assert len(fake.meter_events) == 1


def test_a_stripe_down_past_the_retries_leaves_the_usage_failed_to_send_again(
        fake: FakeStripe, gateway: StripeGateway) -> None:
    fake.fail("/v1/billing/meter_events", 503, times=3)
    report = gateway.send_usage([charge("usage-91-95")])
    assert report.acknowledged == [] and "usage-91-95" in report.failed
    assert gateway.send_usage([charge("usage-91-95")]).acknowledged == ["usage-91-95"]
    assert len(fake.meter_events) == 1


def test_a_rejected_meter_event_is_kept_and_reported_while_the_others_go_through(
        fake: FakeStripe, gateway: StripeGateway) -> None:
    fake.reject("usage-96-96")
    report = gateway.send_usage([charge("usage-96-96"), charge("usage-97-99")])
    assert report.acknowledged == ["usage-97-99"]
    assert "refused" in report.rejected["usage-96-96"]
    assert list(fake.meter_events) == ["usage-97-99"]


def test_duplicate_identifiers_are_not_sent_twice(fake: FakeStripe, gateway: StripeGateway) -> None:
    gateway.send_usage([charge("usage-1-2"), charge("usage-1-2")])
    report = gateway.send_usage([charge("usage-1-2")])
    assert report.acknowledged == ["usage-1-2"]
    assert len(fake.posts("/v1/billing/meter_events")) == 1


def test_invoices_come_back_with_amount_status_period_and_link(
        fake: FakeStripe, gateway: StripeGateway) -> None:
    fake.add_invoice(customer="cus_1", total=10275, status="paid", subscription_id="sub-1",
                     period_start=int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()))
    [invoice] = gateway.invoices("cus_1")
    assert (invoice.amount_fen, invoice.status, invoice.period, invoice.charged) == (10275, "paid", "2026-11", True)
    assert invoice.subscription_id == "sub-1" and invoice.url
