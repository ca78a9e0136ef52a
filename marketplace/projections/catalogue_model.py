"""How catalogue events change a catalogue entry: one pure function shared by both read-model
backends, so SQLite and PostgreSQL can never disagree about what an event means."""

from __future__ import annotations

from typing import Any

# Entries are plain dicts (stored as JSON): the columns the search filters on are copied out.
Entry = dict[str, Any]


def apply_asset_event(entry: Entry | None, event: Any, departments: dict[str, Entry]) -> Entry | None:
    """Return the entry after ``event`` (a DataAsset domain event); None for events it ignores."""
    name = type(event).__name__
    at = event.timestamp.isoformat()
    if name == "Registered":
        department = departments.get(event.department_id, {})
        entry = {
            "id": str(event.originator_id),
            "resource_code": event.resource_code,
            "department_id": event.department_id,
            "department_name": department.get("name", ""),
            "department_code": department.get("code", ""),
            "metadata": event.metadata,
            "status": "draft",
            "current_version": None,
            "versions": [],
            "registered_at": at,
            "published_at": None,
            "cleared_columns": {},
        }
    elif entry is None:
        return None
    elif name == "MetadataUpdated":
        entry["metadata"] = event.metadata
    elif name == "VersionAdded":
        v = event.version
        entry["versions"].append({
            "number": v["number"], "row_count": v["row_count"], "columns": v["columns"],
            "content_hash": v["content_hash"], "format": v["format"], "encoding": v["encoding"],
            "bytes": v["bytes"], "quality_score": v.get("quality", {}).get("score"),
            "added_at": at, "table": v["table"], "personal": dict(v.get("personal") or {}),
        })
    elif name == "SubmittedForReview":
        entry["status"] = "submitted"
    elif name == "Approved":
        entry["status"] = "approved"
    elif name == "Rejected":
        entry["status"] = "rejected"
    elif name == "Published":
        entry["status"] = "published"
        entry["current_version"] = event.version
        entry["published_at"] = at
    elif name == "PersonalColumnCleared":
        cleared = entry.setdefault("cleared_columns", {})
        cleared[event.column] = {"kind": event.kind, "reason": event.reason,
                                 "by": (event.by or {}).get("name"), "at": at}
    elif name == "Withdrawn":
        entry["status"] = "withdrawn"
        entry["current_version"] = None
    else:
        return None
    entry["updated_at"] = at
    return entry


def columns_of(entry: Entry) -> dict[str, Any]:
    """The filterable columns of an entry, and the text the search looks in."""
    md = entry["metadata"]
    current = entry.get("current_version")
    rows = None
    if current:
        rows = entry["versions"][current - 1]["row_count"]
    search_text = " ".join([
        md["name"], md["abstract"], " ".join(md.get("keywords", [])), entry["department_name"],
        entry["resource_code"], " ".join(i["name"] for i in md["information_items"]),
    ])
    return {
        "id": entry["id"],
        "resource_code": entry["resource_code"],
        "name": md["name"],
        "department_id": entry["department_id"],
        "category": md["category"],
        "class_code": md["classification"]["class_code"],
        "open_type": md["opening"]["type"],
        "status": entry["status"],
        "row_count": rows,
        "updated_at": entry["updated_at"],
        "search_text": search_text,
    }
