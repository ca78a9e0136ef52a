"""计费: what the data bank remembers about billing, whichever payment provider is behind it.

A ``BillingAccount`` maps one organisation to its customer at the provider (created once, reused
for every paid subscription). A ``BillingEventReceipt`` is one provider event (a Stripe webhook delivery) that
was handled: its id is natural in the provider's event id, so a second delivery of the same event
collides in the event store and is handled once, however often it is delivered.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInputError
from domain.ids import natural_id

MAX_OUTCOME = 500


class BillingAccount(Aggregate):
    """An organisation as a customer of the payment provider."""

    @staticmethod
    def create_id(organisation_id: str) -> UUID:
        return natural_id("billing-account", str(organisation_id))

    @classmethod
    def open(cls, *, organisation_id: str, customer_id: str) -> "BillingAccount":
        """:param customer_id: the provider's customer id (``cus_...``, or ``offline:<org>``)"""
        return cls(organisation_id=str(organisation_id), customer_id=_ref(customer_id, "customer_id"))

    @event("Opened")
    def __init__(self, organisation_id: str, customer_id: str) -> None:
        self.organisation_id = organisation_id
        self.customer_id = customer_id


class BillingEventReceipt(Aggregate):
    """One provider event, handled once: the dedupe record of webhook deliveries."""

    @staticmethod
    def create_id(event_id: str) -> UUID:
        return natural_id("billing-event", str(event_id))

    @classmethod
    def handle(cls, *, event_id: str, event_type: str, subscription_id: str | None,
               outcome: str) -> "BillingEventReceipt":
        """:param outcome: what the bank did, in a few words (e.g. ``activated``, ``ignored``)"""
        return cls(event_id=_ref(event_id, "event_id"), event_type=_ref(event_type, "event_type"),
                   subscription_id=subscription_id, outcome=(outcome or "")[:MAX_OUTCOME])

    @event("Handled")
    def __init__(self, event_id: str, event_type: str, subscription_id: str | None,
                 outcome: str) -> None:
        self.event_id = event_id
        self.event_type = event_type
        self.subscription_id = subscription_id
        self.outcome = outcome


def _ref(value: str, field: str) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value or len(value) > 255:
        raise InvalidInputError(f"{field} is 1 to 255 characters", field=field)
    return value


DELIVERY_OUTCOMES = ("acknowledged", "rejected", "failed")


class UsageDelivery(Aggregate):
    """One metered charge (one usage batch of one subscription in one period) sent to the
    provider, and what became of it. Its id is natural in the charge identifier (our batch id), so
    a second first-delivery of the same batch collides in the event store.

    ``acknowledged`` is final; ``rejected`` is kept and reported (not re-sent blindly); ``failed``
    is for the reconciler to send again with the same identifier.
    """

    @staticmethod
    def create_id(identifier: str) -> UUID:
        return natural_id("usage-delivery", str(identifier))

    @classmethod
    def record(cls, *, identifier: str, batch_number: int, subscription_id: str, customer_id: str,
               period: str, rows: int, at: float, outcome: str, reason: str = "") -> "UsageDelivery":
        """:param at: the meter event's timestamp (epoch seconds), kept for re-sends"""
        return cls(identifier=_ref(identifier, "identifier"), batch_number=int(batch_number),
                   subscription_id=_ref(subscription_id, "subscription_id"),
                   customer_id=_ref(customer_id, "customer_id"), period=period, rows=int(rows),
                   at=float(at), outcome=_outcome(outcome), reason=(reason or "")[:MAX_OUTCOME])

    @event("Sent")
    def __init__(self, identifier: str, batch_number: int, subscription_id: str, customer_id: str,
                 period: str, rows: int, at: float, outcome: str, reason: str) -> None:
        self.identifier = identifier
        self.batch_number = batch_number
        self.subscription_id = subscription_id
        self.customer_id = customer_id
        self.period = period
        self.rows = rows
        self.at = at
        self.outcome = outcome
        self.reason = reason
        self.attempts = 1

    def resent(self, outcome: str, reason: str = "") -> None:
        """Another attempt (the reconciler's); nothing changes once acknowledged."""
        if self.outcome == "acknowledged":
            return
        self._resent(outcome=_outcome(outcome), reason=(reason or "")[:MAX_OUTCOME])

    @event("Resent")
    def _resent(self, outcome: str, reason: str) -> None:
        self.outcome = outcome
        self.reason = reason
        self.attempts += 1


class ProviderEventWatermark(Aggregate):
    """Per subscription, the provider time (Stripe's ``created``) of the newest state-changing
    event applied. Stripe delivers out of order: a ``customer.subscription.updated`` (active) or a
    ``checkout.session.completed`` delayed past a newer ``invoice.payment_failed`` must not
    reinstate what the failure suspended, so an older event is recorded and ignored."""

    @staticmethod
    def create_id(subscription_id: str) -> UUID:
        return natural_id("provider-event-watermark", str(subscription_id))

    @classmethod
    def start(cls, *, subscription_id: str, at: int, event_id: str) -> "ProviderEventWatermark":
        """:param at: the event's provider time, epoch seconds"""
        return cls(subscription_id=str(subscription_id), at=int(at), event_id=event_id)

    @event("Started")
    def __init__(self, subscription_id: str, at: int, event_id: str) -> None:
        self.subscription_id = subscription_id
        self.at = at
        self.event_id = event_id

    def is_newer(self, at: int) -> bool:
        """Events of the same second are applied (the provider gives no finer order)."""
        return int(at) >= self.at

    def advance(self, at: int, event_id: str) -> None:
        if int(at) >= self.at:
            self._advanced(at=int(at), event_id=event_id)

    @event("Advanced")
    def _advanced(self, at: int, event_id: str) -> None:
        self.at = at
        self.event_id = event_id


class InvoiceWatermark(Aggregate):
    """Superseded by ``ProviderEventWatermark`` (which orders every state-changing event, not only
    invoice events); kept so that stores written before read back, and so that its time seeds the
    new watermark of a subscription that has none yet."""

    @staticmethod
    def create_id(subscription_id: str) -> UUID:
        return natural_id("invoice-watermark", str(subscription_id))

    @event("Started")
    def __init__(self, subscription_id: str, at: int, event_id: str) -> None:
        self.subscription_id = subscription_id
        self.at = at
        self.event_id = event_id

    @event("Advanced")
    def _advanced(self, at: int, event_id: str) -> None:
        self.at = at
        self.event_id = event_id


def _outcome(value: str) -> str:
    if value not in DELIVERY_OUTCOMES:
        raise InvalidInputError(f"outcome is one of {', '.join(DELIVERY_OUTCOMES)}", field="outcome")
    return value
