"""Billing mutations (start a Checkout, open the customer portal) and queries (invoices, billing
status). Members act for their own organisation; the gateway may be the offline ledger, whose
invoices are computed locally and marked ``charged: false``."""

from __future__ import annotations

from typing import Any

import graphene

from domain import errors as domain_errors
from marketplace.api.auth import require_member
from marketplace.api.errors import BadUserInputError, ForbiddenError, NotFoundError
from marketplace.api.payload import attempt, user_error_type

BILLING_ERROR_CODES = ("INVALID_INPUT", "NOT_PERMITTED", "INVALID_STATE", "NOT_FOUND")
BillingErrorCode = graphene.Enum("BillingErrorCode", [(c, c) for c in BILLING_ERROR_CODES])
BillingError = user_error_type("BillingError", BillingErrorCode)
KNOWN = set(BILLING_ERROR_CODES)


class InvoiceLine(graphene.ObjectType):
    description = graphene.String(required=True)
    amount_fen = graphene.Int(required=True)


class Invoice(graphene.ObjectType):
    """An invoice; `charged` is false for the offline ledger's (computed locally, not charged)."""

    id = graphene.ID(required=True)
    subscription_id = graphene.ID()
    period = graphene.String(required=True, description="YYYY-MM, China time.")
    amount_fen = graphene.Int(required=True)
    currency = graphene.String(required=True)
    status = graphene.String(required=True)
    charged = graphene.Boolean(required=True)
    url = graphene.String()
    lines = graphene.List(graphene.NonNull(InvoiceLine), required=True)

    @staticmethod
    def from_invoice(invoice: Any) -> dict[str, Any]:
        return {"id": invoice.id, "subscription_id": invoice.subscription_id,
                "period": invoice.period, "amount_fen": invoice.amount_fen,
                "currency": invoice.currency, "status": invoice.status, "charged": invoice.charged,
                "url": invoice.url,
                "lines": [{"description": d, "amount_fen": a} for d, a in invoice.lines]}


class BillingStatus(graphene.ObjectType):
    subscription_id = graphene.ID(required=True)
    status = graphene.String(required=True, description="The subscription's status.")
    reason = graphene.String()
    gateway = graphene.String(required=True, description="`stripe` or `offline`.")
    charged = graphene.Boolean(required=True, description="False: the offline ledger charges nothing.")
    paid = graphene.Boolean(required=True, description="The plan costs something.")
    payment_reference = graphene.String()


class SessionPayload(graphene.ObjectType):
    url = graphene.String(description="Where to send the member (Checkout or the portal).")
    errors = graphene.List(graphene.NonNull(BillingError), required=True)


def _billing(info: Any) -> Any:
    return info.context.billing


class StartCheckout(graphene.Mutation):
    """A Checkout URL for a subscription awaiting payment (offline: completes at once)."""

    class Arguments:
        subscription_id = graphene.ID(required=True)

    Output = SessionPayload

    @staticmethod
    def mutate(root: Any, info: Any, subscription_id: str) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: _billing(info).start_checkout(subscription_id, by=actor),
                       lambda url: {"url": url})


class OpenBillingPortal(graphene.Mutation):
    """A customer portal URL for the organisation (payment methods, invoices, cancelling)."""

    class Arguments:
        organisation_id = graphene.ID(required=True)

    Output = SessionPayload

    @staticmethod
    def mutate(root: Any, info: Any, organisation_id: str) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: _billing(info).open_portal(organisation_id, by=actor),
                       lambda url: {"url": url})


def _query(command: Any) -> Any:
    try:
        return command()
    except domain_errors.NotPermittedError as error:
        raise ForbiddenError(error.message) from None
    except domain_errors.NotFoundError as error:
        raise NotFoundError(error.message) from None
    except domain_errors.DomainError as error:
        raise BadUserInputError(error.message) from None


class BillingQueries(graphene.ObjectType):
    invoices = graphene.List(graphene.NonNull(Invoice), required=True,
                             organisation_id=graphene.ID(required=True),
                             description="Your organisation's invoices, newest first.")
    billing_status = graphene.Field(BillingStatus, subscription_id=graphene.ID(required=True),
                                    description="How a subscription of your organisation is billed.")

    @staticmethod
    def resolve_invoices(root: Any, info: Any, organisation_id: str) -> list[dict]:
        actor = require_member(info)
        found = _query(lambda: _billing(info).invoices(organisation_id, by=actor))
        return [Invoice.from_invoice(i) for i in found]

    @staticmethod
    def resolve_billing_status(root: Any, info: Any, subscription_id: str) -> dict:
        actor = require_member(info)
        status = _query(lambda: _billing(info).status(subscription_id, by=actor))
        return {k: v for k, v in status.items() if k != "customer_id"}


class BillingMutations(graphene.ObjectType):
    start_checkout = StartCheckout.Field()
    open_billing_portal = OpenBillingPortal.Field()
