"""How Marketplace events change the entitlements read model: pure functions shared by both
backends, so SQLite and PostgreSQL can never disagree about what an event means.

The read model is a set of documents, each a row ``(kind, id, org, asset, extra, doc)``: ``org``,
``asset`` and ``extra`` are the columns looked up by (``extra`` is the secret hash of a key, the
status of a subscription, the department of an access application, the user of a membership).

A stored read model holds the kinds of the code that wrote it: renaming a kind (as "application"
became "access_application") changes ``MODEL_VERSION``, and a store of another version is
emptied and replayed from the log (see the backends).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

Doc = dict[str, Any]

#: The documents' layout (their kinds and fields). Bump it when they change: each backend keeps
#: the version it was built by and rebuilds from the log on a mismatch.
MODEL_VERSION = 3


@dataclass
class Row:
    org: str | None
    asset: str | None
    extra: str | None
    doc: Doc


Load = Callable[[str, str], "Row | None"]


class Changes:
    """The rows one batch of events touched: read through to the store once, written at the end."""

    def __init__(self, load: Load) -> None:
        self._load = load
        self.rows: dict[tuple[str, str], Row | None] = {}

    def get(self, kind: str, key: str) -> Row | None:
        if (kind, key) not in self.rows:
            self.rows[(kind, key)] = self._load(kind, key)
        return self.rows[(kind, key)]

    def put(self, kind: str, key: str, row: Row) -> None:
        self.rows[(kind, key)] = row

    def delete(self, kind: str, key: str) -> None:
        self.rows[(kind, key)] = None


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def apply_event(changes: Changes, event: Any) -> None:
    """Apply one Marketplace domain event (others are ignored)."""
    kind, _, name = type(event).__qualname__.partition(".")
    handler = _HANDLERS.get(kind)
    if handler is not None:
        handler(changes, name, event, str(event.originator_id), event.timestamp.isoformat())


def _template(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Created":
        changes.put("template", key, Row(None, None, e.key, {
            "id": key, "key": e.key, "name": e.name, "kind": e.kind, "terms": [e.terms],
            "current_version": e.terms["version"], "created_at": at}))
    elif (row := changes.get("template", key)) and name == "TermsPublished":
        row.doc["terms"].append(e.terms)
        row.doc["current_version"] = e.terms["version"]


def _plan(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Defined":
        changes.put("plan", key, Row(None, e.asset_id, e.licence_template_id, {
            "id": key, "asset_id": e.asset_id, "name": e.name,
            "licence_template_id": e.licence_template_id, "price": e.price, "quotas": e.quotas,
            "overage": e.overage, "field_tier": e.field_tier, "item_overrides": e.item_overrides,
            "retired": False, "defined_at": at}))
    elif (row := changes.get("plan", key)) and name == "Retired":
        row.doc["retired"] = True


def _member_row(changes: Changes, org: str, user_id: str, role: str) -> None:
    changes.put("membership", f"{user_id}:{org}", Row(org, None, user_id,
                                                     {"user_id": user_id, "organisation_id": org,
                                                      "role": role}))


def _organisation(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Registered":
        owner = e.by["id"]
        changes.put("organisation", key, Row(key, None, e.credit_code, {
            "id": key, "credit_code": e.credit_code, "name": e.name, "kind": e.kind,
            "members": {owner: {"name": e.by["name"], "role": "owner"}}, "invitations": {},
            "sponsored": [], "registered_at": at}))
        _member_row(changes, key, owner, "owner")
        return
    row = changes.get("organisation", key)
    if row is None:
        return
    doc = row.doc
    if name == "MemberAdded":
        doc["members"][e.user_id] = {"name": e.name, "role": e.role}
        _member_row(changes, key, e.user_id, e.role)
    elif name == "Invited":
        doc["invitations"][e.email] = e.role
    elif name == "InvitationAccepted":
        doc["invitations"].pop(e.email, None)
        doc["members"][e.user_id] = {"name": e.name, "role": e.role}
        _member_row(changes, key, e.user_id, e.role)
    elif name == "MemberRemoved":
        doc["members"].pop(e.user_id, None)
        changes.delete("membership", f"{e.user_id}:{key}")
    elif name == "StartupSponsored":
        doc["sponsored"].append(e.organisation_id)
    elif name == "SponsorshipEnded" and e.organisation_id in doc["sponsored"]:
        doc["sponsored"].remove(e.organisation_id)


def _subscription(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Started":
        changes.put("subscription", key, Row(e.organisation_id, e.plan["asset_id"], e.status, {
            "id": key, "organisation_id": e.organisation_id, "asset_id": e.plan["asset_id"],
            "plan_id": e.plan_id, "plan": e.plan, "terms_version": e.terms_version,
            "application_id": e.application_id, "status": e.status, "reason": None,
            "started_at": at, "updated_at": at}))
        return
    row = changes.get("subscription", key)
    if row is None:
        return
    doc = row.doc
    if name == "Renewed":
        doc.update(plan=e.plan, terms_version=e.terms_version, application_id=e.application_id,
                   status=e.status, reason=None)
    else:
        status = {"Activated": "active", "Suspended": "suspended", "Reinstated": "active",
                  "Revoked": "revoked", "Expired": "expired"}.get(name)
        if status is None:
            return
        previous = doc["status"]
        doc["status"] = status
        doc["reason"] = getattr(e, "reason", None) if status in ("suspended", "revoked") else None
        if status != previous and name in _SUBSCRIPTION_NOTICES:
            _notify(changes, e, row.org, row.asset, at, _SUBSCRIPTION_NOTICES[name],
                    subscription_id=key, reason=doc["reason"])
    doc["updated_at"] = at
    row.extra = doc["status"]


def _access_application(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Submitted":
        changes.put("access_application", key, Row(e.organisation_id, e.asset_id, e.asset_department_id, {
            "id": key, "organisation_id": e.organisation_id, "asset_id": e.asset_id,
            "department_id": e.asset_department_id, "purpose": e.purpose, "scenario": e.scenario,
            "security_commitment": e.security_commitment, "submitted_at": _iso(e.submitted_at),
            "submitted_by": e.by["name"], "deadline": e.deadline, "status": "submitted",
            "agreement": None, "reasons": [], "escalated": False, "escalated_at": None,
            "decided_by": None, "decided_at": None}))
        return
    row = changes.get("access_application", key)
    if row is None:
        return
    doc = row.doc
    if name == "Escalated":
        doc.update(status="escalated", escalated=True, escalated_at=_iso(e.at))
    elif name in ("Approved", "Rejected"):
        doc.update(status=name.lower(), decided_by=e.by["name"], decided_at=at)
        if name == "Approved":
            doc["agreement"] = e.agreement
        else:
            doc["reasons"] = e.reasons
        _notify(changes, e, row.org, row.asset, at, f"application_{name.lower()}",
                application_id=key, reason="; ".join(doc["reasons"]) or None)


def _api_key(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Issued":
        changes.put("api_key", key, Row(e.organisation_id, None, e.secret_hash, {
            "id": key, "organisation_id": e.organisation_id, "name": e.name,
            "scopes": list(e.scopes), "prefix": e.prefix, "expires_at": _iso(e.expires_at),
            "revoked": False, "last_used_day": None, "created_at": at,
            "created_by": e.by["name"]}))
        return
    row = changes.get("api_key", key)
    if row is None:
        return
    if name == "Revoked":
        row.doc["revoked"] = True
    elif name == "Used":
        row.doc["last_used_day"] = e.day


# What an organisation is told when its subscription changes (the bank's notifications).
_SUBSCRIPTION_NOTICES = {"Activated": "subscription_activated", "Suspended": "subscription_suspended",
                         "Reinstated": "subscription_reinstated", "Revoked": "subscription_revoked",
                         "Expired": "subscription_expired"}


def _notify(changes: Changes, e: Any, org: str | None, asset: str | None, at: str, kind: str,
            **details: Any) -> None:
    """A notification to the organisation, one per event (keyed by the event's identity)."""
    key = f"{e.originator_id}:{e.originator_version}"
    changes.put("notification", key, Row(org, asset, kind, {
        "id": key, "organisation_id": org, "asset_id": asset, "kind": kind, "at": at, **details}))


_HANDLERS = {"LicenceTemplate": _template, "Plan": _plan, "Organisation": _organisation,
             "Subscription": _subscription, "AccessApplication": _access_application, "ApiKey": _api_key}
