"""The BillingGateway port: what the data bank asks of a payment provider.

Its adapters (marketplace/billing/adapters/): ``OfflineLedger`` (the default: nothing is charged,
invoices are computed locally from the usage ledger) and ``StripeGateway`` (Stripe over
``stripe.StripeClient``); tests use ``FakeBillingGateway`` (tests/support/fake_billing.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Protocol, Sequence

ROWS_EVENT_NAME = "databank_rows"


@dataclass(frozen=True)
class PlanPricing:
    """A plan as the provider needs it.

    :param price: ``monthly_fee_fen``, ``per_1k_rows_fen``, ``per_call_fen`` (whole fen)
    """

    plan_id: str
    name: str
    price: Mapping[str, int]


@dataclass(frozen=True)
class PriceIds:
    """The provider's ids for one plan; None for a component the plan does not charge."""

    product_id: str
    monthly_price_id: str | None = None
    rows_price_id: str | None = None
    meter_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "monthly_price_id": self.monthly_price_id,
                "rows_price_id": self.rows_price_id, "meter_id": self.meter_id}


@dataclass(frozen=True)
class Customer:
    organisation_id: str
    name: str


@dataclass(frozen=True)
class CheckoutRequest:
    """One paid subscription to check out."""

    subscription_id: str
    customer_id: str
    prices: PriceIds


@dataclass(frozen=True)
class UsageCharge:
    """One batch of metered usage of one subscription in one period.

    :param identifier: our usage record batch id; the provider's dedupe key (and idempotency key)
    """

    identifier: str
    subscription_id: str
    customer_id: str
    period: str
    rows: int
    at: datetime


@dataclass
class UsageReport:
    """What became of a ``send_usage``: acknowledged identifiers, rejected ones (kept, with the
    provider's reason: they are not retried blindly), and failed ones (to send again)."""

    acknowledged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Invoice:
    """An invoice as members see it; ``charged`` is False for the offline ledger's."""

    id: str
    subscription_id: str | None
    period: str
    amount_fen: int
    currency: str
    status: str
    charged: bool
    url: str | None = None
    lines: tuple[tuple[str, int], ...] = ()


class BillingGateway(Protocol):
    """The port; every method is safe to call again with the same arguments."""

    name: str

    def ensure_product_and_prices(self, plan: PlanPricing) -> PriceIds: ...

    def ensure_customer(self, organisation: Customer) -> str: ...

    def checkout_session(self, checkout: CheckoutRequest, success_url: str, cancel_url: str) -> str: ...

    def portal_session(self, customer_id: str, return_url: str) -> str: ...

    def send_usage(self, charges: Sequence[UsageCharge]) -> UsageReport: ...

    def invoices(self, customer_id: str) -> list[Invoice]: ...
