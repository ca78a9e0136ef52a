"""Billing: the BillingGateway port and its implementations (offline ledger, Stripe, fake)."""

from marketplace.billing.fake import FakeBillingGateway
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
from marketplace.billing.offline import OfflineLedger, PeriodUsage

__all__ = ["BillingGateway", "CheckoutRequest", "Customer", "FakeBillingGateway", "Invoice",
           "OfflineLedger", "PeriodUsage", "PlanPricing", "PriceIds", "UsageCharge", "UsageReport"]
