"""Subscriptions in the entitlements read model: an organisation's licence grants, each with the
plan's values as they were when accepted (the access path's ``entitlement`` ranks them)."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from marketplace.projections.market.documents import (
    Changes,
    DocumentReads,
    Handler,
    Row,
)
from marketplace.projections.market.licensing import PlanTerms
from marketplace.projections.market.notifications import notify


class PlanSnapshot(PlanTerms):
    """The plan's values copied into a subscription when it starts or renews
    (``domain.licensing.Plan.record``)."""

    plan_id: str


class SubscriptionDoc(TypedDict):
    """Kind ``subscription``, keyed by its id; ``org`` the organisation, ``asset`` the asset,
    ``extra`` the status."""

    id: str
    organisation_id: str
    asset_id: str
    plan_id: str
    plan: PlanSnapshot
    #: the terms version accepted
    terms_version: int
    #: the approved access application it rests on (conditionally open assets)
    application_id: str | None
    #: pending_payment / active / suspended / revoked / expired
    status: str
    #: why suspended or revoked
    reason: str | None
    started_at: str
    updated_at: str


# What an organisation is told when its subscription changes (the bank's notifications).
_NOTICES = {"Activated": "subscription_activated", "Suspended": "subscription_suspended",
            "Reinstated": "subscription_reinstated", "Revoked": "subscription_revoked",
            "Expired": "subscription_expired"}
_STATUS_AFTER = {"Activated": "active", "Suspended": "suspended", "Reinstated": "active",
                 "Revoked": "revoked", "Expired": "expired"}


def _subscription(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Started":
        changes.put("subscription", key, Row(e.organisation_id, e.plan["asset_id"], e.status, dict(
            SubscriptionDoc(
                id=key, organisation_id=e.organisation_id, asset_id=e.plan["asset_id"],
                plan_id=e.plan_id, plan=e.plan, terms_version=e.terms_version,
                application_id=e.application_id, status=e.status, reason=None, started_at=at,
                updated_at=at))))
        return
    row = changes.get("subscription", key)
    if row is None:
        return
    doc = row.doc
    if name == "Renewed":
        doc.update(plan=e.plan, terms_version=e.terms_version, application_id=e.application_id,
                   status=e.status, reason=None)
    else:
        status = _STATUS_AFTER.get(name)
        if status is None:
            return
        previous = doc["status"]
        doc["status"] = status
        doc["reason"] = getattr(e, "reason", None) if status in ("suspended", "revoked") else None
        if status != previous:
            notify(changes, e, row.org, row.asset, at, _NOTICES[name], subscription_id=key,
                   reason=doc["reason"])
    doc["updated_at"] = at
    row.extra = doc["status"]


#: The aggregates (by class name) whose events this module handles.
HANDLERS: dict[str, Handler] = {"Subscription": _subscription}


class SubscriptionReads(DocumentReads):
    """An organisation's subscriptions, typed."""

    def subscriptions_of(self, organisation_id: str) -> list[SubscriptionDoc]:
        """The organisation's subscriptions (every status), oldest first."""
        docs = cast(list[SubscriptionDoc], self._select("subscription", org=organisation_id))
        return sorted(docs, key=lambda d: d["started_at"])

    def subscription(self, subscription_id: str) -> SubscriptionDoc | None:
        return cast("SubscriptionDoc | None", self._get("subscription", subscription_id))
