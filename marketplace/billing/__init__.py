"""Billing: the use cases (service.py), the BillingGateway port (gateway.py) and its adapters
(adapters/: the offline ledger, Stripe)."""

from marketplace.billing.adapters.offline import OfflineLedger, PeriodUsage
from marketplace.billing.gateway import (
    BillingGateway,
    CheckoutRequest,
    Customer,
    Invoice,
    PlanPricing,
    PriceIds,
    UsageCharge,
    UsageReport,
)

__all__ = ["BillingGateway", "CheckoutRequest", "Customer", "Invoice", "OfflineLedger",
           "PeriodUsage", "PlanPricing", "PriceIds", "UsageCharge", "UsageReport"]
