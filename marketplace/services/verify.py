"""The event log verifies: replay every aggregate of every event store and compare it with the
read models fed from those logs.

The read models are caches of the log, written by followers; a bug in a handler, a hand edit of a
read model file or a follower that stopped would let them drift from what the events say, and
nothing else would notice: requests read the read models, never the log. ``verify`` replays each
aggregate (so every stored event must still load and apply) and checks, field by field, what the
read models answer about it — and the other way round, that the read models hold nothing the log
does not. It also checks what lives beside the log: every version table an event names exists in
the datastore, and the datastore holds no version table no event names (a half-finished import).

It reads, never writes: a difference is reported, not repaired (``databank projections rebuild``
replays the read models from the log).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from domain.access_application import AccessApplication
from domain.api_key import ApiKey
from domain.asset import DataAsset
from domain.department import Department
from domain.licensing import LicenceTemplate, Plan
from domain.organisation import Organisation
from domain.subscription import Subscription
from marketplace.datastore.protocol import Datastore
from marketplace.projections.catalogue_view import CatalogueQuery, CatalogueView
from marketplace.projections.entitlements import EntitlementsView

#: Every lifecycle status an asset can have: the catalogue listing is asked for all of them.
_ASSET_STATUSES = ("draft", "submitted", "approved", "rejected", "published", "withdrawn")
#: How many notifications one read of a log asks for.
_BATCH = 1000
#: The market read model's document kinds that stand for one aggregate each (memberships and
#: notifications are derived documents: memberships are checked through their organisation).
_MARKET_KINDS = ("template", "plan", "subscription", "organisation", "api_key",
                 "access_application")


@dataclass(frozen=True)
class Difference:
    """One disagreement between the event log and what is built from it."""

    store: str
    kind: str
    id: str
    field: str
    event_log: Any
    read_model: Any

    def line(self) -> str:
        return (f"{self.store} {self.kind} {self.id}: {self.field}: event log says "
                f"{self.event_log!r}, read model says {self.read_model!r}")


@dataclass
class Report:
    """What ``verify`` found: aggregates replayed per store, and every difference."""

    aggregates: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        if self.differences:
            return [d.line() for d in self.differences]
        counted = ", ".join(f"{name} {count:,}" for name, count in self.aggregates.items())
        return [(f"verified: the read models agree with the event log ({counted} aggregates "
                 f"replayed)")]


@dataclass(frozen=True)
class Stores:
    """The event stores and what is built from them (bootstrap.DataBank holds them all)."""

    catalogue: Application
    staff: Application
    market: Application
    metering: Application
    billing: Application | None
    catalogue_view: CatalogueView
    entitlements_view: EntitlementsView
    datastore: Datastore


def verify(stores: Stores) -> Report:
    """Replay every aggregate of every store and compare it with the read models."""
    report = Report()
    catalogue = _replay(stores.catalogue, report, "Catalogue")
    _check_lag(report, "Catalogue", "catalogue", stores.catalogue, stores.catalogue_view.position())
    _check_catalogue(report, catalogue, stores.catalogue_view)
    _check_version_tables(report, catalogue, stores.datastore)
    market = _replay(stores.market, report, "Market")
    _check_lag(report, "Market", "entitlements", stores.market,
               stores.entitlements_view.position())
    _check_market(report, market, stores.entitlements_view)
    # No read model follows these stores: replaying every aggregate checks their logs load.
    _replay(stores.staff, report, "StaffDirectory")
    _replay(stores.metering, report, "Metering")
    if stores.billing is not None:
        _replay(stores.billing, report, "BillingRecords")
    return report


# ---- replay ------------------------------------------------------------------------------------

def _originators(app: Application) -> Iterator[UUID]:
    """Every aggregate id in the application's log, once each, in the order first recorded."""
    seen: set[UUID] = set()
    start = 1
    while True:
        notifications = app.recorder.select_notifications(start, _BATCH)
        if not notifications:
            return
        for notification in notifications:
            originator = notification.originator_id
            key = originator if isinstance(originator, UUID) else UUID(originator)
            if key not in seen:
                seen.add(key)
                yield key
        start = notifications[-1].id + 1


def _replay(app: Application, report: Report, store: str) -> dict[UUID, Aggregate]:
    """Every aggregate of ``app`` rebuilt from its events (an aggregate that fails to replay is a
    difference: the log no longer says what it is)."""
    aggregates: dict[UUID, Aggregate] = {}
    for originator_id in _originators(app):
        try:
            aggregates[originator_id] = app.repository.get(originator_id)
        except Exception as error:  # any failure to replay is what this command reports
            report.differences.append(Difference(store, "aggregate", str(originator_id),
                                                 "replay", f"fails: {error!r}", None))
    report.aggregates[store] = len(aggregates)
    return aggregates


def _check_lag(report: Report, store: str, model: str, app: Application, position: int) -> None:
    newest = app.recorder.max_notification_id() or 0
    if position != newest:
        report.differences.append(Difference(store, "read model", model, "position", newest,
                                             position))


# ---- comparing ---------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A value as the read models store it (JSON): times as ISO 8601, tuples as lists."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _compare(report: Report, store: str, kind: str, key: str, expected: Mapping[str, Any],
             found: Mapping[str, Any] | None) -> None:
    if found is None:
        report.differences.append(Difference(store, kind, key, "(document)", "present", "missing"))
        return
    for name, value in expected.items():
        want, got = _plain(value), _plain(found.get(name))
        if want != got:
            report.differences.append(Difference(store, kind, key, name, want, got))


def _extras(report: Report, store: str, kind: str, in_model: Iterable[str],
            in_log: Iterable[str]) -> None:
    for key in sorted(set(in_model) - set(in_log)):
        report.differences.append(Difference(store, kind, key, "(document)", "missing", "present"))


def _of(aggregates: dict[UUID, Aggregate], cls: type) -> dict[str, Any]:
    return {str(key): aggregate for key, aggregate in aggregates.items()
            if isinstance(aggregate, cls)}


# ---- the catalogue -----------------------------------------------------------------------------

def _all_entries(view: CatalogueView) -> Iterator[dict[str, Any]]:
    after = None
    while True:
        page = view.search(CatalogueQuery(statuses=_ASSET_STATUSES, first=100, after=after))
        yield from page.entries
        if not page.has_next_page:
            return
        after = page.end_cursor


def _asset_facts(asset: DataAsset) -> dict[str, Any]:
    return {
        "resource_code": asset.resource_code, "department_id": asset.department_id,
        "metadata": asset.metadata, "status": asset.status,
        "current_version": asset.current_version,
        "versions": [{"number": v["number"], "table": v["table"], "row_count": v["row_count"],
                      "content_hash": v["content_hash"]} for v in asset.versions],
        "cleared_columns": dict(asset.cleared_columns),
    }


def _entry_facts(entry: dict[str, Any]) -> dict[str, Any]:
    facts = dict(entry)
    facts["versions"] = [{"number": v.get("number"), "table": v.get("table"),
                          "row_count": v.get("row_count"), "content_hash": v.get("content_hash")}
                         for v in entry.get("versions") or []]
    facts["cleared_columns"] = {column: (cleared or {}).get("kind") for column, cleared
                                in (entry.get("cleared_columns") or {}).items()}
    return facts


def _check_catalogue(report: Report, aggregates: dict[UUID, Aggregate],
                     view: CatalogueView) -> None:
    assets = _of(aggregates, DataAsset)
    entries = {entry["id"]: entry for entry in _all_entries(view)}
    for key, asset in assets.items():
        entry = entries.get(key)
        _compare(report, "Catalogue", "asset", key, _asset_facts(asset),
                 _entry_facts(entry) if entry is not None else None)
    _extras(report, "Catalogue", "asset", entries, assets)

    departments = _of(aggregates, Department)
    listed = {d["id"]: d for d in view.departments()}
    for key, department in departments.items():
        _compare(report, "Catalogue", "department", key,
                 {"code": department.code, "name": department.name}, listed.get(key))
    _extras(report, "Catalogue", "department", listed, departments)


def _check_version_tables(report: Report, aggregates: dict[UUID, Aggregate],
                          datastore: Datastore) -> None:
    """No event without a table, no table without an event."""
    named = {v["table"]: key for key, asset in _of(aggregates, DataAsset).items()
             for v in asset.versions}
    present = set(datastore.tables())
    for table, key in sorted(named.items()):
        if table not in present:
            report.differences.append(Difference("Catalogue", "version table", table, "table",
                                                 f"named by asset {key}", "missing"))
    for table in sorted(present - set(named)):
        report.differences.append(Difference("Catalogue", "version table", table, "table",
                                             "named by no event", "present"))


# ---- the market --------------------------------------------------------------------------------

def _template_facts(t: LicenceTemplate) -> dict[str, Any]:
    return {"key": t.key, "name": t.name, "kind": t.kind,
            "current_version": t.current_version,
            "terms": t.terms}


def _plan_facts(p: Plan) -> dict[str, Any]:
    return {"asset_id": p.asset_id, "name": p.name, "licence_template_id": p.licence_template_id,
            "price": p.price, "quotas": p.quotas, "overage": p.overage,
            "field_tier": p.field_tier, "item_overrides": p.item_overrides, "retired": p.retired}


def _subscription_facts(s: Subscription) -> dict[str, Any]:
    return {"organisation_id": s.organisation_id, "plan_id": s.plan_id,
            "asset_id": s.plan["asset_id"], "terms_version": s.terms_version,
            "application_id": s.application_id, "status": s.status,
            "reason": getattr(s, "reason", None)}


def _organisation_facts(o: Organisation) -> dict[str, Any]:
    return {"credit_code": o.credit_code, "name": o.name, "kind": o.kind, "members": o.members,
            "invitations": o.invitations, "sponsored": o.sponsored}


def _api_key_facts(k: ApiKey) -> dict[str, Any]:
    return {"organisation_id": k.organisation_id, "name": k.name, "scopes": list(k.scopes),
            "prefix": k.prefix, "expires_at": k.expires_at, "revoked": k.revoked,
            "last_used_day": getattr(k, "last_used_day", None)}


def _application_facts(a: AccessApplication) -> dict[str, Any]:
    return {"organisation_id": a.organisation_id, "asset_id": a.asset_id,
            "department_id": a.asset_department_id, "deadline": a.deadline,
            "status": a.status, "agreement": getattr(a, "agreement", None),
            "reasons": getattr(a, "reasons", None) or []}


#: kind → (aggregate class, the facts the read model must agree with)
_MARKET: dict[str, tuple[type, Callable[[Any], dict[str, Any]]]] = {
    "template": (LicenceTemplate, _template_facts),
    "plan": (Plan, _plan_facts),
    "subscription": (Subscription, _subscription_facts),
    "organisation": (Organisation, _organisation_facts),
    "api_key": (ApiKey, _api_key_facts),
    "access_application": (AccessApplication, _application_facts),
}


def _check_market(report: Report, aggregates: dict[UUID, Aggregate],
                  view: EntitlementsView) -> None:
    for kind in _MARKET_KINDS:
        cls, facts = _MARKET[kind]
        of_kind = _of(aggregates, cls)
        # The read model offers no "every document of a kind" to its readers (nothing in the
        # API lists them all); verification alone needs it, so it uses the storage's lookup.
        docs = {doc["id"]: doc for doc in view._select(kind)}
        for key, aggregate in of_kind.items():
            _compare(report, "Market", kind, key, facts(aggregate), docs.get(key))
        _extras(report, "Market", kind, docs, of_kind)
    _check_memberships(report, _of(aggregates, Organisation), view)


def _check_memberships(report: Report, organisations: dict[str, Organisation],
                       view: EntitlementsView) -> None:
    """"My organisations" is answered from membership documents: one per member."""
    expected = {f"{user}:{key}": {"user_id": user, "organisation_id": key,
                                  "role": member["role"]}
                for key, organisation in organisations.items()
                for user, member in organisation.members.items()}
    found = {f"{doc['user_id']}:{doc['organisation_id']}": doc
             for doc in view._select("membership")}
    for key, facts in expected.items():
        _compare(report, "Market", "membership", key, facts, found.get(key))
    _extras(report, "Market", "membership", found, expected)
