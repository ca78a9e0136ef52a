"""``POST /webhooks/stripe``: Stripe's events, verified on the raw body, handled once.

The signature is checked by the stripe library on the exact bytes received (tolerance 300 s):
a bad signature, a stale timestamp or a tampered body is a 400 and changes nothing. The billing
service dedupes on the event id (stored) and only moves subscriptions forward, so repeated and
out-of-order deliveries are safe. The answer is quick: the handling is one event-store save.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import stripe
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from marketplace.billing.service import Billing

log = logging.getLogger("databank.webhooks")

TOLERANCE_SECONDS = 300


def stripe_webhook_route(billing: "Billing | None", secret: str | None,
                         path: str = "/webhooks/stripe") -> Route:
    """The webhook route; 404 while no webhook secret is configured (the offline ledger)."""

    async def receive(request: Request) -> JSONResponse:
        if billing is None or not secret:
            return JSONResponse({"error": "Stripe webhooks are not configured"}, status_code=404)
        body = await request.body()
        try:
            event = stripe.Webhook.construct_event(body, request.headers.get("stripe-signature", ""),
                                                   secret, tolerance=TOLERANCE_SECONDS)
        except (stripe.SignatureVerificationError, ValueError) as error:
            log.warning("refused a Stripe webhook: %s", error)
            return JSONResponse({"error": "invalid signature or payload"}, status_code=400)
        handled = await run_in_threadpool(billing.handle_event, event.to_dict())
        return JSONResponse({"received": True, "event": handled.event_id, "outcome": handled.outcome,
                             "duplicate": handled.duplicate})

    return Route(path, receive, methods=["POST"])
