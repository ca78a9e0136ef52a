"""A payment provider's event (a Stripe webhook delivery), checked for the shape the bank relies on.

A signature proves who sent the body, not that it has the fields the handling reads: an event
without ``id`` or ``type``, with ``data`` that is not an object or ``created`` that is not a time
is refused with a message naming the problem (the webhook answers 400), never half-handled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

#: The events that change a subscription; they apply in the provider's order (``created``).
STATE_CHANGING = frozenset({
    "checkout.session.completed",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
})

MAX_REF = 255
#: ``created`` is epoch seconds; anything past 2^53 is not a time (and not exact as a float).
MAX_CREATED = 2**53


class MalformedEventError(ValueError):
    """A verified provider event lacks a field the bank needs, or has one of the wrong kind."""


@dataclass(frozen=True)
class ProviderEvent:
    """The parts of a provider event the bank reads.

    :ivar id: the provider's event id (the dedupe key)
    :ivar type: e.g. ``invoice.payment_failed``
    :ivar created: when the provider created the event, epoch seconds (the order of events)
    :ivar object: ``data.object``, the provider object the event is about
    """

    id: str
    type: str
    created: int
    object: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def changes_state(self) -> bool:
        return self.type in STATE_CHANGING

    @classmethod
    def parse(cls, event: Any) -> "ProviderEvent":
        """The event, or ``MalformedEventError`` naming the first field at fault."""
        if not isinstance(event, Mapping):
            raise MalformedEventError("the event is not a JSON object")
        event_id = _ref(event.get("id"), "id")
        kind = _ref(event.get("type"), "type")
        created = event.get("created")
        if isinstance(created, bool) or not isinstance(created, (int, float)) \
                or not math.isfinite(created) or not 0 <= created < MAX_CREATED:
            raise MalformedEventError("the event's created is not a time in epoch seconds")
        data = event.get("data")
        if not isinstance(data, Mapping):
            raise MalformedEventError("the event's data is not an object")
        obj = data.get("object")
        if not isinstance(obj, Mapping):
            raise MalformedEventError("the event's data.object is not an object")
        return cls(id=event_id, type=kind, created=int(created), object=obj)


def _ref(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedEventError(f"the event has no {name}")
    if len(value) > MAX_REF:
        raise MalformedEventError(f"the event's {name} is longer than {MAX_REF} characters")
    return value.strip()
