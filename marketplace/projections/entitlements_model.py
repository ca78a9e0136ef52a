"""How the Market's events change the entitlements read model: the one ``apply_event``, shared by
both backends, so SQLite and PostgreSQL can never disagree about what an event means.

Each capability's handlers live with its documents in ``marketplace.projections.market`` and are
registered here by the name of the aggregate whose events they handle; events of any other
aggregate are ignored.

A stored read model holds the kinds of the code that wrote it: renaming a kind (as "application"
became "access_application") or changing what a document holds changes ``MODEL_VERSION``, and a
store of another version is emptied and replayed from the log (see the backends).
"""

from __future__ import annotations

from typing import Any

from marketplace.projections.market import (
    access_applications,
    api_keys,
    licensing,
    organisations,
    subscriptions,
)
from marketplace.projections.market.documents import Changes, Doc, Handler, Row

__all__ = ["MODEL_VERSION", "Changes", "Doc", "Row", "apply_event"]

#: The documents' layout (their kinds and fields). Bump it when they change: each backend keeps
#: the version it was built by and rebuilds from the log on a mismatch.
MODEL_VERSION = 3

#: aggregate class name → its handler (notifications are written by the subscription and access
#: application handlers: they have no aggregate of their own).
_HANDLERS: dict[str, Handler] = {
    **licensing.HANDLERS, **organisations.HANDLERS, **subscriptions.HANDLERS,
    **access_applications.HANDLERS, **api_keys.HANDLERS}


def apply_event(changes: Changes, event: Any) -> None:
    """Apply one of the Market's domain events (others are ignored)."""
    kind, _, name = type(event).__qualname__.partition(".")
    handler = _HANDLERS.get(kind)
    if handler is not None:
        handler(changes, name, event, str(event.originator_id), event.timestamp.isoformat())
