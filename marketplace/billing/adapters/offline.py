"""The offline ledger: the default gateway when no Stripe keys are set. Nothing is charged.

Checkout completes at once (the subscription activates), usage is acknowledged as it comes, and
invoices are computed locally from the usage ledger — one per subscription per period: the
monthly fee plus the rows at the per-1k-rows price — each marked ``charged: False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlencode

from marketplace.billing.gateway import (
    CheckoutRequest,
    Customer,
    Invoice,
    PlanPricing,
    PriceIds,
    UsageCharge,
    UsageReport,
)

OFFLINE_PREFIX = "offline:"


@dataclass(frozen=True)
class PeriodUsage:
    """The metered figures of one subscription in one period, with the price it pays."""

    subscription_id: str
    period: str
    rows: int
    price: Mapping[str, int]


def rows_charge_fen(rows: int, per_1k_rows_fen: int) -> int:
    """Rows at a per-1k-rows price, rounded half up to whole fen (as Stripe rounds)."""
    return int((Decimal(rows) * per_1k_rows_fen / 1000).quantize(Decimal(1), ROUND_HALF_UP))


def local_invoice(usage: PeriodUsage) -> Invoice:
    monthly = usage.price.get("monthly_fee_fen") or 0
    rows = rows_charge_fen(usage.rows, usage.price.get("per_1k_rows_fen") or 0)
    lines = (("monthly fee", monthly), (f"{usage.rows} rows", rows))
    return Invoice(id=f"offline:{usage.subscription_id}:{usage.period}",
                   subscription_id=usage.subscription_id, period=usage.period,
                   amount_fen=monthly + rows, currency="cny", status="not charged", charged=False,
                   lines=lines)


class OfflineLedger:
    """The gateway without a payment provider.

    :param usage_of: customer id → the usage of each of its paid subscriptions per period (the
        billing service supplies it from the usage meters)
    """

    name = "offline"
    completes_checkout_at_once = True

    def __init__(self, usage_of: Callable[[str], Iterable[PeriodUsage]] | None = None) -> None:
        self.usage_of = usage_of or (lambda customer_id: ())

    def ensure_product_and_prices(self, plan: PlanPricing) -> PriceIds:
        price = plan.price
        return PriceIds(product_id=f"{OFFLINE_PREFIX}{plan.plan_id}",
                        monthly_price_id=f"{OFFLINE_PREFIX}{plan.plan_id}:monthly"
                        if price.get("monthly_fee_fen") else None,
                        rows_price_id=f"{OFFLINE_PREFIX}{plan.plan_id}:rows"
                        if price.get("per_1k_rows_fen") else None)

    def ensure_customer(self, organisation: Customer) -> str:
        return f"{OFFLINE_PREFIX}{organisation.organisation_id}"

    def checkout_session(self, checkout: CheckoutRequest, success_url: str, cancel_url: str) -> str:
        sep = "&" if "?" in success_url else "?"
        return f"{success_url}{sep}{urlencode({'offline': '1', 'subscription': checkout.subscription_id})}"

    def portal_session(self, customer_id: str, return_url: str) -> str:
        return return_url

    def send_usage(self, charges: Sequence[UsageCharge]) -> UsageReport:
        # The usage ledger is the bill: there is nothing to send anywhere.
        return UsageReport(acknowledged=[c.identifier for c in charges])

    def invoices(self, customer_id: str) -> list[Invoice]:
        found = [local_invoice(u) for u in self.usage_of(customer_id)]
        return sorted(found, key=lambda i: (i.period, i.subscription_id or ""), reverse=True)
