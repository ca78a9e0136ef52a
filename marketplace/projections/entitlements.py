"""The entitlements read model: what the data-access path and the marketplace API look up,
fed from the Market's log (services/market/store.py).

The access path asks two questions per request — which key is this (``key_by_hash``) and what
may its organisation do with this asset (``entitlement``) — and caches the answers until the
log moves (``position``). Those two stay here, beside the storage they are tuned for.

The API's questions are cut by what they serve: each capability (licensing, organisations,
subscriptions, access applications, API keys, notifications) keeps its documents, its event
handlers and its typed readers in ``marketplace.projections.market``, and ``EntitlementsView``
brings the readers together over one storage.

The storage is NOT cut: each backend keeps ONE document table and ONE tracking position. One
Market event can write documents of several capabilities (a suspended subscription also
writes a notification; an approval decides an application and notifies), and a batch of events
must land together with the position that says it landed: one transaction advances the position
with the rows, so a crash resumes exactly after the last batch, no capability runs ahead of
another, and ``reset`` + catch-up rebuilds the whole model. Separate tables or positions per
capability would need a transaction across them, or readers that see one capability ahead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from domain.subscription import Entitlement
from marketplace.projections.entitlements_model import Changes, Doc, Row, apply_event
from marketplace.projections.market.access_applications import AccessApplicationReads
from marketplace.projections.market.api_keys import ApiKeyReads
from marketplace.projections.market.licensing import LicensingReads
from marketplace.projections.market.notifications import NotificationReads
from marketplace.projections.market.organisations import OrganisationReads
from marketplace.projections.market.subscriptions import SubscriptionReads

# When an organisation holds several subscriptions to one asset, the one that explains access
# best comes first: an active one, else why not (suspended, awaiting payment, revoked, expired).
_STATUS_RANK = {"active": 0, "suspended": 1, "pending_payment": 2, "revoked": 3, "expired": 4}


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as the access path sees it (never the secret)."""

    key_id: str
    organisation_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    revoked: bool


class EntitlementsView(LicensingReads, OrganisationReads, SubscriptionReads,
                       AccessApplicationReads, ApiKeyReads, NotificationReads, ABC):
    """The read model: the access path's two lookups, every capability's typed readers, and the
    storage (subclasses hold the SQL of one database)."""

    def process(self, events: Sequence[tuple[int, Any]]) -> None:
        """Apply (notification id, domain event) pairs and advance the tracking position."""
        if not events:
            return
        with self._transaction() as tx:
            done = self._locked_position(tx)  # another follower may have been first
            events = [pair for pair in events if pair[0] > done]
            if not events:
                return
            changes = Changes(lambda kind, key: self._load(tx, kind, key))
            for _, event in events:
                apply_event(changes, event)
            for (kind, key), row in changes.rows.items():
                if row is None:
                    self._delete(tx, kind, key)
                else:
                    self._put(tx, kind, key, row)
            self._track(tx, events[-1][0])

    # ---- the access path -----------------------------------------------------------------

    def key_by_hash(self, secret_hash: str) -> ApiKeyRecord | None:
        docs = self._select("api_key", extra=secret_hash)
        if not docs:
            return None
        doc = docs[0]
        expires = doc["expires_at"]
        return ApiKeyRecord(key_id=doc["id"], organisation_id=doc["organisation_id"],
                            name=doc["name"], prefix=doc["prefix"], scopes=tuple(doc["scopes"]),
                            expires_at=datetime.fromisoformat(expires) if expires else None,
                            revoked=doc["revoked"])

    def entitlement(self, organisation_id: str, asset_id: str) -> Entitlement | None:
        """The organisation's subscription to the asset that explains access best: the active
        one with the highest rows quota, else a suspended/pending/revoked/expired one."""
        docs = self._select("subscription", org=organisation_id, asset=asset_id)
        if not docs:
            return None

        def rank(doc: Doc) -> tuple[int, int]:
            rows = doc["plan"]["quotas"].get("rows_per_month")
            return _STATUS_RANK.get(doc["status"], 9), -(rows if rows is not None else 2**62)

        best = min(docs, key=rank)
        plan = best["plan"]
        quotas = plan["quotas"]
        return Entitlement(
            subscription_id=best["id"], organisation_id=best["organisation_id"],
            asset_id=best["asset_id"], plan_id=best["plan_id"], terms_version=best["terms_version"],
            status=best["status"], field_tier=plan["field_tier"],
            rows_per_month=quotas.get("rows_per_month"), calls_per_month=quotas.get("calls_per_month"),
            rate_limit_per_minute=quotas.get("rate_limit_per_minute"), overage=plan["overage"],
            item_overrides=dict(plan.get("item_overrides") or {}))

    # ---- storage -------------------------------------------------------------------------

    @abstractmethod
    def position(self) -> int:
        """The last notification id processed (0 when empty)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget everything (for a rebuild from the start of the log)."""

    @abstractmethod
    def _transaction(self) -> Any: ...

    @abstractmethod
    def _locked_position(self, tx: Any) -> int:
        """The tracking position, locked until the transaction ends."""

    @abstractmethod
    def _load(self, tx: Any, kind: str, key: str) -> Row | None: ...

    @abstractmethod
    def _put(self, tx: Any, kind: str, key: str, row: Row) -> None: ...

    @abstractmethod
    def _delete(self, tx: Any, kind: str, key: str) -> None: ...

    @abstractmethod
    def _track(self, tx: Any, position: int) -> None: ...
