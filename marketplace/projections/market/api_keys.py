"""API keys in the entitlements read model: an organisation's keys as lists show them (never
the secret; the access path finds a key by its secret's hash, ``EntitlementsView.key_by_hash``)."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from marketplace.projections.market.documents import (
    Changes,
    DocumentReads,
    Handler,
    Row,
    iso,
)


class ApiKeyDoc(TypedDict):
    """Kind ``api_key``, keyed by the key's id; ``org`` its organisation, ``extra`` the SHA-256
    of its secret."""

    id: str
    organisation_id: str
    name: str
    scopes: list[str]
    #: the first characters after ``dbk_``
    prefix: str
    expires_at: str | None
    revoked: bool
    #: the last day (China time, ISO date) the key was used
    last_used_day: str | None
    created_at: str
    created_by: str


def _api_key(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Issued":
        changes.put("api_key", key, Row(e.organisation_id, None, e.secret_hash, dict(ApiKeyDoc(
            id=key, organisation_id=e.organisation_id, name=e.name, scopes=list(e.scopes),
            prefix=e.prefix, expires_at=iso(e.expires_at), revoked=False, last_used_day=None,
            created_at=at, created_by=e.by["name"]))))
        return
    row = changes.get("api_key", key)
    if row is None:
        return
    if name == "Revoked":
        row.doc["revoked"] = True
    elif name == "Used":
        row.doc["last_used_day"] = e.day


#: The aggregates (by class name) whose events this module handles.
HANDLERS: dict[str, Handler] = {"ApiKey": _api_key}


class ApiKeyReads(DocumentReads):
    """An organisation's API keys, typed."""

    def api_keys_of(self, organisation_id: str) -> list[ApiKeyDoc]:
        """The organisation's keys (revoked ones too), oldest first."""
        docs = cast(list[ApiKeyDoc], self._select("api_key", org=organisation_id))
        return sorted(docs, key=lambda d: d["created_at"])
