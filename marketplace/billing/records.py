"""Billing's own event store: what the bank remembers about billing (customer accounts, handled
provider events, usage deliveries, the order of provider events per subscription).

Billing is a bounded area of its own: its aggregates live in this application's store
(``events/billing.sqlite3``, or the PostgreSQL tables prefixed ``billing``), not in the
Market's. What billing needs of the market (subscriptions, organisations) it asks through the
Subscriptions and Organisations services' public methods.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate

from domain.billing import (
    BillingAccount,
    BillingEventReceipt,
    InvoiceWatermark,
    ProviderEventWatermark,
    UsageDelivery,
)

T = TypeVar("T", bound=Aggregate)


class BillingRecords(Application):
    """The billing aggregates, looked up by their natural keys."""

    name = "Billing"
    #: billing events found in the Market's store (named Marketplace) and copied here when this store was
    #: opened empty (``databank migrate`` reports it; see records_move.py)
    copied_from_marketplace = 0

    def account(self, organisation_id: str) -> BillingAccount | None:
        """The organisation as the provider's customer; None before its first checkout."""
        return self._find(BillingAccount, BillingAccount.create_id(organisation_id))

    def receipt(self, event_id: str) -> BillingEventReceipt | None:
        """The receipt of a provider event handled before; None when it is new."""
        return self._find(BillingEventReceipt, BillingEventReceipt.create_id(event_id))

    def delivery(self, identifier: str) -> UsageDelivery | None:
        """What became of one metered charge sent to the provider; None when never sent."""
        return self._find(UsageDelivery, UsageDelivery.create_id(identifier))

    def watermark(self, subscription_id: str) -> ProviderEventWatermark | None:
        """The subscription's provider-event watermark. One that only the superseded invoice
        watermark knows starts (unsaved) at that one's time: saving it is the caller's."""
        found = self._find(ProviderEventWatermark, ProviderEventWatermark.create_id(subscription_id))
        if found is None:
            legacy = self._find(InvoiceWatermark, InvoiceWatermark.create_id(subscription_id))
            if legacy is not None:
                found = ProviderEventWatermark.start(subscription_id=subscription_id, at=legacy.at,
                                                     event_id=legacy.event_id)
        return found

    def _find(self, cls: type[T], aggregate_id: UUID) -> T | None:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None
