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
