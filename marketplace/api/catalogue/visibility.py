"""Who sees what of a catalogue entry: drafts and the asset's internals are for the staff
concerned (administrators, reviewers, the publishers of its department); the public sees the
published entry and a history without the bank's internals."""

from __future__ import annotations

import dataclasses
from typing import Any

from domain.actors import Actor, Role

#: Event fields that name the bank's internals, not facts about the data: the aggregate's class
#: path (an eventsourcing topic) and the datastore table a version lives in.
_INTERNAL_FIELDS = ("originator_topic",)
_INTERNAL_VERSION_FIELDS = ("table",)


def staff_concerned(actor: Actor, department_id: str | None) -> bool:
    """Administrators, reviewers, and publishers of the asset's department."""
    return actor.role in (Role.ADMIN, Role.REVIEWER) or (
        actor.role is Role.PUBLISHER and actor.department_id == department_id)


def history_for(actor: Actor, department_id: str | None, entries: list[Any]) -> list[Any]:
    """The asset's history as ``actor`` may see it: whole for the staff concerned; for anyone
    else without internal names, and without the quality report's sample cells (raw values of
    the upload, which a masked tier may not show)."""
    if staff_concerned(actor, department_id):
        return entries
    return [dataclasses.replace(entry, details=_public_details(entry.details)) for entry in entries]


def _public_details(details: dict[str, Any]) -> dict[str, Any]:
    public = {key: value for key, value in details.items() if key not in _INTERNAL_FIELDS}
    version = public.get("version")
    if isinstance(version, dict):
        version = {k: v for k, v in version.items() if k not in _INTERNAL_VERSION_FIELDS}
        quality = version.get("quality")
        if isinstance(quality, dict) and isinstance(quality.get("columns"), dict):
            version["quality"] = {**quality, "columns": {
                name: ({k: v for k, v in column.items() if k != "invalid_samples"}
                       if isinstance(column, dict) else column)
                for name, column in quality["columns"].items()}}
        public["version"] = version
    return public
