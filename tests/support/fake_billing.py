"""A billing gateway for unit tests: remembers every call, answers at once, can refuse usage."""

from __future__ import annotations

from typing import Any, Sequence

from marketplace.billing.gateway import (
    CheckoutRequest,
    Customer,
    Invoice,
    PlanPricing,
    PriceIds,
    UsageCharge,
    UsageReport,
)


class FakeBillingGateway:
    """In-memory stand-in for a provider.

    :param reject: usage identifiers the fake refuses (kept as rejected with a reason)
    :param fail: usage identifiers that fail to send (as a provider down past the retries) while
        they are in ``failing``
    """

    name = "fake"
    completes_checkout_at_once = False

    def __init__(self, *, reject: Sequence[str] = (), fail: Sequence[str] = ()) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.products: dict[str, PriceIds] = {}
        self.customers: dict[str, str] = {}
        self.usage: dict[str, UsageCharge] = {}
        self.reject = set(reject)
        self.failing = set(fail)
        self.invoice_list: dict[str, list[Invoice]] = {}

    def ensure_product_and_prices(self, plan: PlanPricing) -> PriceIds:
        self.calls.append(("ensure_product_and_prices", plan.plan_id))
        if plan.plan_id not in self.products:
            n = len(self.products) + 1
            self.products[plan.plan_id] = PriceIds(
                product_id=f"prod_fake{n}",
                monthly_price_id=f"price_fake{n}m" if plan.price.get("monthly_fee_fen") else None,
                rows_price_id=f"price_fake{n}r" if plan.price.get("per_1k_rows_fen") else None,
                meter_id="mtr_fake" if plan.price.get("per_1k_rows_fen") else None)
        return self.products[plan.plan_id]

    def ensure_customer(self, organisation: Customer) -> str:
        self.calls.append(("ensure_customer", organisation.organisation_id))
        return self.customers.setdefault(organisation.organisation_id,
                                         f"cus_fake{len(self.customers) + 1}")

    def checkout_session(self, checkout: CheckoutRequest, success_url: str, cancel_url: str) -> str:
        self.calls.append(("checkout_session", checkout.subscription_id))
        return f"https://checkout.fake/{checkout.subscription_id}"

    def portal_session(self, customer_id: str, return_url: str) -> str:
        self.calls.append(("portal_session", customer_id))
        return f"https://portal.fake/{customer_id}"

    def send_usage(self, charges: Sequence[UsageCharge]) -> UsageReport:
        report = UsageReport()
        for charge in charges:
            if charge.identifier in self.reject:
                report.rejected[charge.identifier] = "rejected by the fake"
                continue
            if charge.identifier in self.failing:
                report.failed[charge.identifier] = "500: the fake is down"
                continue
            self.usage.setdefault(charge.identifier, charge)
            report.acknowledged.append(charge.identifier)
        self.calls.append(("send_usage", [c.identifier for c in charges]))
        return report

    def invoices(self, customer_id: str) -> list[Invoice]:
        return list(self.invoice_list.get(customer_id, []))
