"""Billing test data: a member's organisation subscribed to a paid plan, and signed webhooks."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import stripe

from domain.actors import Actor
from support.marketplace import ADMIN, member_with_organisation, set_up_market

PAID_PRICE = {"monthly_fee_fen": 9900, "per_1k_rows_fen": 250}
WEBHOOK_SECRET = "whsec_test_databank"


@dataclass
class PaidSubscription:
    member: Actor
    organisation_id: str
    subscription_id: str


def paid_subscription(bank) -> PaidSubscription:
    """A member's startup subscribed (pending payment) to a paid plan on the open asset."""
    market = set_up_market(bank)
    member, organisation_id = member_with_organisation(bank)
    plan = bank.licensing.define_plan(asset_id=market.assets["unconditional"], name="商用月度",
                          licence_template_id=market.templates["commercial"], price=PAID_PRICE,
                          quotas={"rows_per_month": 100_000}, overage="bill", field_tier="masked",
                          by=ADMIN)
    subscription = bank.subscriptions.subscribe(organisation_id, str(plan.id), accepted_terms_version=1, by=member)
    return PaidSubscription(member, organisation_id, str(subscription.id))


def stripe_event(event_id: str, kind: str, obj: dict[str, Any], *, created: int | None = None) -> dict:
    """A Stripe-shaped event around ``obj``."""
    return {"id": event_id, "object": "event", "type": kind, "api_version": stripe.api_version,
            "created": int(time.time()) if created is None else created, "livemode": False,
            "data": {"object": obj}}


def for_subscription(subscription_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    """The Stripe object of an event about our subscription."""
    meta = {"databank_subscription_id": subscription_id}
    if kind.startswith("checkout."):
        return {"id": "cs_test_1", "object": "checkout.session", "client_reference_id": subscription_id,
                "metadata": meta, **fields}
    if kind.startswith("invoice."):
        return {"id": fields.pop("invoice_id", "in_1"), "object": "invoice",
                "parent": {"type": "subscription_details",
                           "subscription_details": {"metadata": meta}}, **fields}
    return {"id": "sub_stripe_1", "object": "subscription", "metadata": meta, **fields}


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET, *,
           timestamp: int | None = None) -> tuple[bytes, str]:
    """The raw body and the Stripe-Signature header of a delivery of ``event``."""
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return body.encode(), header
