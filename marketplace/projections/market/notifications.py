"""Notifications in the entitlements read model: what the bank told an organisation (its
subscriptions activated, suspended, reinstated, revoked or ended; its access applications
decided). The subscription and access application handlers write them, one per event."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, cast

from marketplace.projections.market.documents import Changes, DocumentReads, Row

#: The most notifications one answer lists.
NOTIFICATIONS_LIMIT = 50


class NotificationDoc(TypedDict):
    """Kind ``notification``, keyed ``<aggregate id>:<version>`` of the event that told it;
    ``org`` the organisation told, ``asset`` the asset concerned, ``extra`` the kind."""

    id: str
    organisation_id: str | None
    asset_id: str | None
    #: subscription_activated ... subscription_expired, application_approved / _rejected
    kind: str
    at: str
    #: set on a subscription's notifications
    subscription_id: NotRequired[str]
    #: set on an access application's notifications
    application_id: NotRequired[str]
    #: the reason given (suspension, revocation, rejection), else None
    reason: str | None


def notify(changes: Changes, e: Any, org: str | None, asset: str | None, at: str, kind: str,
           *, reason: str | None, subscription_id: str | None = None,
           application_id: str | None = None) -> None:
    """A notification to the organisation, one per event (keyed by the event's identity, so
    replaying the log writes the same one again)."""
    key = f"{e.originator_id}:{e.originator_version}"
    doc = NotificationDoc(id=key, organisation_id=org, asset_id=asset, kind=kind, at=at,
                          reason=reason)
    if subscription_id is not None:
        doc["subscription_id"] = subscription_id
    if application_id is not None:
        doc["application_id"] = application_id
    changes.put("notification", key, Row(org, asset, kind, dict(doc)))


class NotificationReads(DocumentReads):
    """An organisation's notifications, typed."""

    def notifications_of(self, organisation_id: str,
                         limit: int = NOTIFICATIONS_LIMIT) -> list[NotificationDoc]:
        """What the organisation was told, newest first."""
        docs = cast(list[NotificationDoc], self._select("notification", org=organisation_id))
        return sorted(docs, key=lambda d: d["at"], reverse=True)[:limit]
