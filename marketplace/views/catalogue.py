"""Catalogue queries for a caller: search, one asset, departments, the review queue, histories.

Who sees what: anyone sees published assets; the staff concerned with an asset (administrators,
reviewers, the publishers of its department) also see it unpublished, and its whole history with
the bank's internals. A publisher who asks for unpublished statuses sees their own department's
assets; the public asking for them sees only what is published. Reviewers queue the submitted
assets of other departments (nobody reviews their own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from domain.actors import Actor, Role
from domain.asset import AssetStatus
from marketplace.projections.catalogue_view import CatalogueQuery, CatalogueView
from marketplace.views.catalogue_entries import CatalogueEntry, DepartmentEntry
from marketplace.views.errors import InvalidQuery

#: The longest free text a search looks for; the rest of a longer text is ignored.
MAX_SEARCH_TEXT = 100
#: The most entries one page (and the review queue) holds.
MAX_PAGE = 100
PUBLISHED = (AssetStatus.PUBLISHED.value,)
ALL_STATUSES = tuple(status.value for status in AssetStatus)
STAFF = (Role.ADMIN, Role.REVIEWER, Role.PUBLISHER)

#: Event fields that name the bank's internals, not facts about the data: the aggregate's class
#: path (an eventsourcing topic) and the datastore table a version lives in.
_INTERNAL_FIELDS = ("originator_topic",)
_INTERNAL_VERSION_FIELDS = ("table",)


@dataclass(frozen=True)
class CatalogueSearch:
    """What the caller asks the catalogue for. ``statuses`` are those asked for: the view
    narrows them to what the caller may see."""

    text: str | None = None
    statuses: tuple[str, ...] = PUBLISHED
    category: str | None = None
    class_code: str | None = None
    department_id: str | None = None
    open_type: str | None = None
    first: int = 20
    after: str | None = None


@dataclass(frozen=True)
class CatalogueResults:
    """A page of entries, keyset-paginated by resource code."""

    entries: list[CatalogueEntry]
    total: int
    end_cursor: str | None
    has_next_page: bool


class RecordedEvent(Protocol):
    """One event of an asset's life as the Catalogue service reads it from the log."""

    @property
    def position(self) -> int: ...
    @property
    def event(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def by(self) -> Mapping[str, object] | None: ...
    @property
    def details(self) -> Mapping[str, object]: ...


@dataclass(frozen=True)
class HistoryLine:
    """One event of an asset's life as the caller may see it: who did what, when."""

    position: int
    event: str
    at: datetime
    by: Mapping[str, object] | None
    details: Mapping[str, object]


#: The asset's events, oldest first (``Catalogue.history``).
HistorySource = Callable[[str], Iterable[RecordedEvent]]


def staff_concerned(actor: Actor, department_id: str | None) -> bool:
    """Administrators, reviewers, and publishers of the asset's department."""
    return actor.role in (Role.ADMIN, Role.REVIEWER) or (
        actor.role is Role.PUBLISHER and actor.department_id == department_id)


class CatalogueQueries:
    """The catalogue's read side for one caller at a time (built once, shared by requests)."""

    def __init__(self, read_model: CatalogueView, history: HistorySource,
                 catch_up: Callable[[], object] = lambda: None) -> None:
        """:param read_model: the catalogue read model
        :param history: an asset's recorded events (straight from the event log)
        :param catch_up: brings the read model up to date with the log (for the fresh reads of
            a caller who just changed something)"""
        self._read_model = read_model
        self._history = history
        self._catch_up = catch_up

    def refresh(self) -> None:
        """Bring the read model up to date: what a command just recorded is visible to the
        next query (read-after-write for mutations)."""
        self._catch_up()

    def asset_of_record(self, asset_id: str) -> CatalogueEntry | None:
        """The entry of the asset a record the caller already sees names (their subscription,
        their access application), whatever its status: a subscription to an asset since
        withdrawn still names it."""
        return cast("CatalogueEntry | None", self._read_model.get(asset_id))

    def changed_asset(self, asset_id: str) -> CatalogueEntry | None:
        """The entry of an asset the caller has just changed, fresh. No visibility rule: the
        command already decided the caller may change it, and the answer shows the change."""
        self._catch_up()
        return cast("CatalogueEntry | None", self._read_model.get(asset_id))

    def departments(self) -> list[DepartmentEntry]:
        """Every department providing data (public)."""
        return cast(list[DepartmentEntry], self._read_model.departments())

    def department(self, department_id: str) -> DepartmentEntry | None:
        return next((d for d in self.departments() if d["id"] == department_id), None)

    def search(self, actor: Actor, search: CatalogueSearch) -> CatalogueResults:
        """A page of the entries ``actor`` may see that match ``search``.

        :raises InvalidQuery: ``after`` is not a cursor this catalogue gave out
        """
        statuses = search.statuses or PUBLISHED
        if statuses != PUBLISHED and actor.role not in STAFF:
            statuses = PUBLISHED  # the public sees only what is published
        department_id = search.department_id
        if actor.role is Role.PUBLISHER and statuses != PUBLISHED:
            # A publisher sees other departments' published assets, and their own drafts.
            department_id = actor.department_id
        query = CatalogueQuery(
            text=(search.text or "")[:MAX_SEARCH_TEXT], statuses=statuses, first=search.first,
            after=search.after, category=search.category, class_code=search.class_code,
            department_id=department_id, open_type=search.open_type)
        try:
            page = self._read_model.search(query)
        except ValueError as exc:
            raise InvalidQuery(str(exc)) from None
        return CatalogueResults(entries=cast(list[CatalogueEntry], page.entries), total=page.total,
                                end_cursor=page.end_cursor, has_next_page=page.has_next_page)

    def asset(self, actor: Actor, asset_id: str) -> CatalogueEntry | None:
        """One asset; None when missing or not ``actor``'s to see (the same answer)."""
        return self._visible(actor, cast("CatalogueEntry | None", self._read_model.get(asset_id)))

    def asset_by_code(self, actor: Actor, resource_code: str) -> CatalogueEntry | None:
        """One asset by its 信息资源代码; None when missing or not ``actor``'s to see."""
        page = self._read_model.search(CatalogueQuery(text=resource_code, statuses=ALL_STATUSES,
                                                      first=5))
        entries = cast(list[CatalogueEntry], page.entries)
        return self._visible(actor, next(
            (e for e in entries if e["resource_code"] == resource_code), None))

    def review_queue(self, actor: Actor) -> list[CatalogueEntry]:
        """The assets waiting for open review that ``actor`` may review: for reviewers and
        administrators, other departments' submitted assets; empty for anyone else."""
        if actor.role not in (Role.REVIEWER, Role.ADMIN):
            return []
        page = self._read_model.search(CatalogueQuery(statuses=(AssetStatus.SUBMITTED.value,),
                                                      first=MAX_PAGE))
        entries = cast(list[CatalogueEntry], page.entries)
        return [e for e in entries if e["department_id"] != actor.department_id]

    def history(self, actor: Actor, entry: CatalogueEntry) -> list[HistoryLine]:
        """The asset's history as ``actor`` may see it: whole for the staff concerned; for anyone
        else without internal names, and without the quality report's sample cells (raw values
        of the upload, which a masked tier may not show)."""
        recorded = self._history(entry["id"])
        whole = staff_concerned(actor, entry.get("department_id"))
        return [HistoryLine(position=e.position, event=e.event, at=e.at, by=e.by,
                            details=e.details if whole else public_details(e.details))
                for e in recorded]

    @staticmethod
    def _visible(actor: Actor, entry: CatalogueEntry | None) -> CatalogueEntry | None:
        """The entry if ``actor`` may see it: published to all, the rest to the staff concerned."""
        if entry is None or entry["status"] == AssetStatus.PUBLISHED.value:
            return entry
        return entry if staff_concerned(actor, entry["department_id"]) else None


def public_details(details: Mapping[str, object]) -> dict[str, object]:
    """An event's details without the bank's internals and the quality report's sample cells."""
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

