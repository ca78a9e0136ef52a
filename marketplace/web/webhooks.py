"""``POST /webhooks/stripe``: Stripe's events, verified on the raw body, handled once.

The signature is checked by the stripe library on the exact bytes received (tolerance 300 s):
a bad signature, a stale timestamp or a tampered body is a 400 and changes nothing. A correctly
signed body that is not JSON or lacks what the bank reads (``id``, ``type``, ``created``, ``data``
as an object) is a 400 naming the problem, never a 500. The billing service dedupes on the event
id (stored) and applies state-changing events in Stripe's ``created`` order per subscription, so
repeated and out-of-order deliveries are safe. The answer is quick: the handling is one save.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import stripe
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from marketplace.billing.events import MalformedEventError, ProviderEvent
from marketplace.observability.metrics import WEBHOOK_EVENTS, webhook_outcome
from marketplace.web.bodies import (
    SMALL_BODY_BYTES,
    PayloadTooLargeError,
    read_body_capped,
    too_large_response,
)

if TYPE_CHECKING:
    from marketplace.billing.service import Billing

log = logging.getLogger("databank.webhooks")

TOLERANCE_SECONDS = 300


def stripe_webhook_route(billing: "Billing | None", secret: str | None,
                         path: str = "/webhooks/stripe",
                         max_body_bytes: int = SMALL_BODY_BYTES) -> Route:
    """The webhook route; 404 while no webhook secret is configured (the offline ledger).

    :param max_body_bytes: the largest body read (Stripe's events are a few KB): past it, 413
    """

    async def receive(request: Request) -> JSONResponse:
        if billing is None or not secret:
            return JSONResponse({"error": "Stripe webhooks are not configured"}, status_code=404)
        try:
            body = await read_body_capped(request, max_body_bytes)
        except PayloadTooLargeError as too_large:
            log.warning("refused a Stripe webhook body over %d bytes", too_large.limit)
            WEBHOOK_EVENTS.labels("too_large").inc()
            return too_large_response(too_large.limit)
        try:
            stripe.WebhookSignature.verify_header(body, request.headers.get("stripe-signature", ""),
                                                  secret, TOLERANCE_SECONDS)
        except (stripe.SignatureVerificationError, ValueError) as error:
            log.warning("refused a Stripe webhook: %s", error)
            WEBHOOK_EVENTS.labels("bad_signature").inc()
            return JSONResponse({"error": "invalid signature or payload"}, status_code=400)
        try:
            event = ProviderEvent.parse(json.loads(body))
        except MalformedEventError as error:
            log.warning("refused a signed Stripe webhook: %s", error)
            WEBHOOK_EVENTS.labels("malformed").inc()
            return JSONResponse({"error": str(error)}, status_code=400)
        except ValueError:  # JSON syntax, or a number too long to convert
            log.warning("refused a signed Stripe webhook: the body is not JSON")
            WEBHOOK_EVENTS.labels("malformed").inc()
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        handled = await run_in_threadpool(billing.handle_event, event)
        WEBHOOK_EVENTS.labels("duplicate" if handled.duplicate
                              else webhook_outcome(handled.outcome)).inc()
        return JSONResponse({"received": True, "event": handled.event_id, "outcome": handled.outcome,
                             "duplicate": handled.duplicate})

    return Route(path, receive, methods=["POST"])
