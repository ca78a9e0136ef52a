"""The catalogue use cases: departments register data assets, upload versions, have them reviewed
and publish them. Every change is an event; the event log is the audit trail."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.actors import Actor, Role
from domain.asset import DataAsset, ResourceCodeSequence, check_manages
from domain.department import Department
from domain.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from domain.metadata import AssetMetadata, DataType, Sensitivity
from marketplace.datastore import ColumnType, Datastore, ImportRejected, ImportSpec, Semantic
from marketplace.services.conflicts import retry_on_conflict

log = logging.getLogger(__name__)
T = TypeVar("T")

# Which identifier check an information item's sensitivity asks the import to run.
_SEMANTIC_OF = {Sensitivity.ID_NUMBER: Semantic.CITIZEN_ID, Sensitivity.PHONE: Semantic.MOBILE}


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an asset's history: what happened, who did it, when, with what details."""

    position: int
    event: str
    at: Any
    by: dict[str, Any] | None
    details: dict[str, Any]


class Catalogue(Application):
    """Departments and data assets (aggregates) with the datastore that holds version rows."""

    name = "Catalogue"

    def __init__(self, env: dict[str, str] | None = None, *, datastore: Datastore) -> None:
        """
        :param env: the eventsourcing persistence environment (see services.persistence)
        :param datastore: where imported version rows are stored
        """
        super().__init__(env)
        self.datastore = datastore

    # ---- departments ---------------------------------------------------------------------

    def register_department(self, *, code: str, name: str, contact: str, by: Actor) -> Department:
        department = Department.register(code=code, name=name, contact=contact, by=by)
        try:
            self.save(department)
        except IntegrityError:
            raise AlreadyExistsError(f"a department with provider code {department.code} exists",
                                     field="code") from None
        return department

    def get_department(self, department_id: UUID | str) -> Department | None:
        return self._find(Department, department_id)

    # ---- assets --------------------------------------------------------------------------

    def register_asset(self, *, department_id: str, metadata: dict[str, Any], by: Actor) -> DataAsset:
        """Register a data asset; its resource code is issued from its classification's sequence."""
        parsed = AssetMetadata.parse(metadata)
        if self.get_department(department_id) is None:
            raise NotFoundError("no such department", field="department_id")
        check_manages(by, department_id)

        def attempt() -> DataAsset:
            sequence = self._find(ResourceCodeSequence, ResourceCodeSequence.create_id(
                parsed.classification.code)) or ResourceCodeSequence(
                classification_code=parsed.classification.code)
            code = sequence.issue(parsed.classification)
            asset = DataAsset.register(resource_code=code, department_id=str(department_id),
                                       metadata=parsed, by=by)
            self.save(sequence, asset)
            return asset

        return retry_on_conflict(attempt)

    def get_asset(self, asset_id: UUID | str) -> DataAsset | None:
        return self._find(DataAsset, asset_id)

    def update_asset_metadata(self, asset_id: str, metadata: dict[str, Any], *, by: Actor) -> DataAsset:
        parsed = AssetMetadata.parse(metadata)
        return self._change(asset_id, lambda a: a.update_metadata(parsed, by=by))

    def upload_version(self, asset_id: str, source: BinaryIO, *, source_format: str, by: Actor,
                       type_overrides: dict[str, str] | None = None,
                       max_bytes: int | None = None) -> tuple[DataAsset, int]:
        """Stream rows into a new immutable table and record the version; all or nothing."""
        asset = self._require(asset_id)
        check_manages(by, asset.department_id)
        metadata = AssetMetadata.parse(asset.metadata)
        spec = self._import_spec(metadata, source_format, type_overrides or {}, max_bytes)
        table = f"v_{asset.id.hex[:16]}_{uuid.uuid4().hex[:10]}"
        try:
            result = self.datastore.import_version(table, source, spec)
        except ImportRejected as rejected:
            where = f" (line {rejected.line})" if rejected.line else ""
            raise InvalidInputError(f"{rejected.message}{where}", field="file",
                                    code=f"IMPORT_{rejected.code}") from None
        try:
            declared = {i.name for i in metadata.information_items}
            quality = dict(result.quality)
            quality["undeclared_columns"] = [c.name for c in result.columns if c.name not in declared]

            def attempt() -> tuple[DataAsset, int]:
                fresh = self._require(asset_id)
                number = fresh.add_version(
                    table=result.table, columns=[c.to_dict() for c in result.columns],
                    row_count=result.row_count, content_hash=result.content_hash,
                    encoding=result.encoding, source_format=source_format,
                    bytes_read=result.bytes_read, quality=quality, by=by,
                    personal=result.quality.get("personal_columns", {}))
                self.save(fresh)
                return fresh, number

            return retry_on_conflict(attempt)
        except BaseException:
            # No event, no table: a version exists entirely or not at all.
            self.datastore.drop(table)
            raise

    def submit_for_review(self, asset_id: str, version: int, *, by: Actor) -> DataAsset:
        return self._change(asset_id, lambda a: a.submit_for_review(version, by=by))

    def approve(self, asset_id: str, *, reason: str, by: Actor) -> DataAsset:
        return self._change(asset_id, lambda a: a.approve(reason=reason, by=by))

    def reject(self, asset_id: str, *, reasons: list[str], by: Actor) -> DataAsset:
        return self._change(asset_id, lambda a: a.reject(reasons=reasons, by=by))

    def publish(self, asset_id: str, version: int, *, by: Actor) -> DataAsset:
        return self._change(asset_id, lambda a: a.publish(version, by=by))

    def withdraw(self, asset_id: str, *, reason: str, by: Actor) -> DataAsset:
        return self._change(asset_id, lambda a: a.withdraw(reason=reason, by=by))

    def clear_personal_column(self, asset_id: str, column: str, *, reason: str,
                              by: Actor) -> DataAsset:
        """A reviewer clears a column the import detected as personal: from then on it is sent
        as stored in every tier (unless the publisher declares it personal)."""
        return self._change(asset_id, lambda a: a.clear_personal_column(column, reason=reason, by=by))

    def history(self, asset_id: UUID | str) -> list[HistoryEntry]:
        """Who did what when, straight from the asset's events."""
        entries = []
        for event in self.events.get(_uuid(asset_id)):
            state = {k: v for k, v in event.__dict__.items()
                     if k not in ("originator_id", "originator_version", "timestamp", "by")}
            # Every stored event has a timestamp; eventsourcing's event protocol omits it.
            at = event.timestamp  # type: ignore[attr-defined]
            entries.append(HistoryEntry(position=event.originator_version,
                                        event=type(event).__name__, at=at,
                                        by=getattr(event, "by", None), details=state))
        return entries

    def can_see_unpublished(self, asset: DataAsset, actor: Actor) -> bool:
        """Drafts are visible to their department, reviewers and administrators."""
        return actor.role in (Role.ADMIN, Role.REVIEWER) or (
            actor.role is Role.PUBLISHER and actor.department_id == asset.department_id)

    # ---- helpers -------------------------------------------------------------------------

    @staticmethod
    def _import_spec(metadata: AssetMetadata, source_format: str, overrides: dict[str, str],
                     max_bytes: int | None) -> ImportSpec:
        if source_format not in ("csv", "xlsx", "jsonl"):
            raise InvalidInputError(f"format {source_format!r} is not one of csv, xlsx, jsonl",
                                    field="format")
        types: dict[str, ColumnType] = {i.name: ColumnType(i.data_type.value)
                                        for i in metadata.information_items}
        for column, type_name in overrides.items():
            if type_name not in {t.value for t in DataType}:
                raise InvalidInputError(f"{type_name!r} is not a column type", field="type_overrides")
            types[column] = ColumnType(type_name)
        semantics = {i.name: _SEMANTIC_OF[i.sensitivity] for i in metadata.information_items
                     if i.sensitivity in _SEMANTIC_OF}
        keys = tuple(i.name for i in metadata.information_items if i.key)
        # No item declared filterable: None, and the datastore indexes dates and area columns.
        filterable = tuple(i.name for i in metadata.information_items if i.filterable) or None
        return ImportSpec(format=source_format, type_overrides=types, semantics=semantics,
                          key_columns=keys, max_bytes=max_bytes, filterable_columns=filterable)

    def _find(self, cls: type[T], aggregate_id: UUID | str) -> T | None:
        try:
            found: object = self.repository.get(_uuid(aggregate_id))
        except (AggregateNotFoundError, ValueError):
            return None
        return found if isinstance(found, cls) else None

    def _require(self, asset_id: UUID | str) -> DataAsset:
        asset = self._find(DataAsset, asset_id)
        if asset is None:
            raise NotFoundError("no such data asset", field="asset_id")
        return asset

    def _change(self, asset_id: UUID | str, command: Callable[[DataAsset], None]) -> DataAsset:
        def attempt() -> DataAsset:
            asset = self._require(asset_id)
            command(asset)
            self.save(asset)
            return asset

        return retry_on_conflict(attempt)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
