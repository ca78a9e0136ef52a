"""The Stripe adapter: the BillingGateway on ``stripe.StripeClient`` (stripe-python 16).

Every plan gets one Product; a monthly fee becomes a recurring licensed Price, a per-1k-rows
price a metered Price attached to the one Billing Meter of rows (``databank_rows``: sum of
``value`` per ``stripe_customer_id``). Prices are immutable at Stripe, so each carries a lookup
key with its amount: a changed plan price makes a new Price, an unchanged one is found again.
Usage goes out as meter events whose ``identifier`` is our usage batch id and whose idempotency
key is the same id, so the library's retries (409, 5xx, timeouts) and our own re-sends never
bill twice.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Sequence

import stripe

from domain.metering import period_of

from marketplace.billing.gateway import (
    ROWS_EVENT_NAME,
    CheckoutRequest,
    Customer,
    Invoice,
    PlanPricing,
    PriceIds,
    UsageCharge,
    UsageReport,
)

CURRENCY = "cny"
SUBSCRIPTION_KEY = "databank_subscription_id"


def make_client(api_key: str, *, api_base: str | None = None, timeout: float = 10.0,
                max_network_retries: int = 2) -> stripe.StripeClient:
    """A ``StripeClient`` with timeouts and retries; ``api_base`` points both the ``api`` and the
    ``meter_events`` addresses elsewhere (our fake server in tests)."""
    try:
        http_client: Any = stripe.RequestsClient(timeout=timeout)
    except ImportError:  # requests is optional for stripe; httpx is always installed here
        http_client = stripe.HTTPXClient(timeout=timeout)
    base = {"api": api_base, "meter_events": api_base} if api_base else None
    return stripe.StripeClient(api_key, base_addresses=base,  # type: ignore[arg-type]
                               max_network_retries=max_network_retries, http_client=http_client)


class StripeGateway:
    """Stripe behind the BillingGateway port.

    :param client: a configured ``stripe.StripeClient`` (``make_client``)
    :param event_name: the Billing Meter's event name for rows
    """

    name = "stripe"
    completes_checkout_at_once = False

    def __init__(self, client: stripe.StripeClient, *, event_name: str = ROWS_EVENT_NAME) -> None:
        self.client = client
        self.event_name = event_name
        self._meter_id: str | None = None
        self._acknowledged: set[str] = set()
        self._lock = threading.Lock()

    # ---- catalogue ---------------------------------------------------------------------

    def ensure_meter(self) -> str:
        """The rows meter, found by event name or created once."""
        if self._meter_id is None:
            for meter in self.client.v1.billing.meters.list({"status": "active", "limit": 100}).data:
                if meter.event_name == self.event_name:
                    self._meter_id = meter.id
                    break
            else:
                meter = self.client.v1.billing.meters.create(
                    {"display_name": "Rows served", "event_name": self.event_name,
                     "default_aggregation": {"formula": "sum"},
                     "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
                     "value_settings": {"event_payload_key": "value"}},
                    {"idempotency_key": f"meter-{self.event_name}"})
                self._meter_id = meter.id
        return self._meter_id

    def ensure_product_and_prices(self, plan: PlanPricing) -> PriceIds:
        product_id = f"databank-plan-{plan.plan_id}"
        try:
            product = self.client.v1.products.retrieve(product_id)
            if product.name != plan.name:
                self.client.v1.products.update(product_id, {"name": plan.name})
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:
                raise
            self.client.v1.products.create(
                {"id": product_id, "name": plan.name, "metadata": {"databank_plan_id": plan.plan_id}},
                {"idempotency_key": f"product-{plan.plan_id}"})
        monthly = plan.price.get("monthly_fee_fen") or 0
        per_1k = plan.price.get("per_1k_rows_fen") or 0
        monthly_id = rows_id = meter_id = None
        if monthly:
            monthly_id = self._price(f"databank-{plan.plan_id}-monthly-{monthly}", {
                "product": product_id, "currency": CURRENCY, "unit_amount": monthly,
                "recurring": {"interval": "month", "usage_type": "licensed"}})
        if per_1k:
            meter_id = self.ensure_meter()
            # a per-row amount in fractions of a fen: Stripe rounds the line total, as we do
            rows_id = self._price(f"databank-{plan.plan_id}-rows-{per_1k}", {
                "product": product_id, "currency": CURRENCY,
                "unit_amount_decimal": str(Decimal(per_1k) / 1000),
                "recurring": {"interval": "month", "usage_type": "metered", "meter": meter_id}})
        return PriceIds(product_id=product_id, monthly_price_id=monthly_id, rows_price_id=rows_id,
                        meter_id=meter_id)

    def _price(self, lookup_key: str, params: dict[str, Any]) -> str:
        found = self.client.v1.prices.list({"lookup_keys": [lookup_key], "active": True}).data
        if found:
            return found[0].id
        price = self.client.v1.prices.create({**params, "lookup_key": lookup_key},
                                             {"idempotency_key": f"price-{lookup_key}"})
        return price.id

    # ---- customers and sessions --------------------------------------------------------

    def ensure_customer(self, organisation: Customer) -> str:
        # The billing service keeps the id (BillingAccount); the key covers retries and races.
        customer = self.client.v1.customers.create(
            {"name": organisation.name, "metadata": {"databank_organisation_id": organisation.organisation_id}},
            {"idempotency_key": f"customer-{organisation.organisation_id}"})
        return customer.id

    def checkout_session(self, checkout: CheckoutRequest, success_url: str, cancel_url: str) -> str:
        items: list[dict[str, Any]] = []
        if checkout.prices.monthly_price_id:
            items.append({"price": checkout.prices.monthly_price_id, "quantity": 1})
        if checkout.prices.rows_price_id:
            items.append({"price": checkout.prices.rows_price_id})  # metered: no quantity
        metadata = {SUBSCRIPTION_KEY: checkout.subscription_id}
        session = self.client.v1.checkout.sessions.create({
            "mode": "subscription", "customer": checkout.customer_id, "line_items": items,
            "success_url": success_url, "cancel_url": cancel_url,
            "client_reference_id": checkout.subscription_id, "metadata": metadata,
            "subscription_data": {"metadata": metadata}})
        return session.url

    def portal_session(self, customer_id: str, return_url: str) -> str:
        session = self.client.v1.billing_portal.sessions.create(
            {"customer": customer_id, "return_url": return_url})
        return session.url

    # ---- usage -------------------------------------------------------------------------

    def send_usage(self, charges: Sequence[UsageCharge]) -> UsageReport:
        """One meter event per charge; acknowledged ones are not sent again by this gateway."""
        report = UsageReport()
        seen: set[str] = set()
        for charge in charges:
            if charge.identifier in seen:
                continue
            seen.add(charge.identifier)
            with self._lock:
                done = charge.identifier in self._acknowledged
            if done:
                report.acknowledged.append(charge.identifier)
                continue
            try:
                self.client.v1.billing.meter_events.create(
                    {"event_name": self.event_name, "identifier": charge.identifier,
                     "timestamp": int(charge.at.timestamp()),
                     "payload": {"stripe_customer_id": charge.customer_id, "value": str(charge.rows)}},
                    {"idempotency_key": charge.identifier})
            except stripe.InvalidRequestError as error:
                if "duplicate" not in (error.code or ""):  # already at Stripe: acknowledged
                    report.rejected[charge.identifier] = _reason(error)
                    continue
            except stripe.StripeError as error:  # retried by the client already: send later
                report.failed[charge.identifier] = _reason(error)
                continue
            with self._lock:
                self._acknowledged.add(charge.identifier)
            report.acknowledged.append(charge.identifier)
        return report

    # ---- invoices ----------------------------------------------------------------------

    def invoices(self, customer_id: str) -> list[Invoice]:
        found = self.client.v1.invoices.list({"customer": customer_id, "limit": 24}).data
        return [_invoice(i.to_dict(), i.id) for i in found]


def _invoice(inv: dict[str, Any], invoice_id: str) -> Invoice:
    subscription_id = None
    parent = inv.get("parent") or {}
    details = (parent.get("subscription_details") or {}) if parent else {}
    if details:
        subscription_id = (details.get("metadata") or {}).get(SUBSCRIPTION_KEY)
    start = inv.get("period_start")
    period = ""
    if start:
        period = period_of(datetime.fromtimestamp(start, tz=timezone.utc))
    return Invoice(id=invoice_id, subscription_id=subscription_id, period=period,
                   amount_fen=inv.get("total") or 0, currency=inv.get("currency") or CURRENCY,
                   status=inv.get("status") or "", charged=True,
                   url=inv.get("hosted_invoice_url"))


def _reason(error: stripe.StripeError) -> str:
    return f"{error.http_status or 'no answer'}: {error.user_message or error}"[:500]
