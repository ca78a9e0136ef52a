"""数据资产: a data asset, its versions and its open-review lifecycle.

draft → submitted → approved | rejected; approved → published → withdrawn; rejected and withdrawn
assets can be changed and submitted again. The open review approves a version's *schema* (its
columns and types): later versions with the same schema can be published without another review
(daily updates), a version whose columns differ must be reviewed again.
"""

from __future__ import annotations

from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import (
    InvalidInputError,
    InvalidStateError,
    NotApprovedError,
    NotPermittedError,
    SelfReviewError,
    UnknownVersionError,
)
from domain.ids import natural_id
from domain.metadata import AssetMetadata, Classification, resource_code


class AssetStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


EDITABLE = (AssetStatus.DRAFT, AssetStatus.REJECTED, AssetStatus.WITHDRAWN)


class ResourceCodeSequence(Aggregate):
    """顺序码: hands out sequence numbers within one classification, gap-free and unique.

    Two registrations racing for the same number collide on this aggregate's version in the
    event store; the service retries the loser with the next number.
    """

    @staticmethod
    def create_id(classification_code: str) -> UUID:
        return natural_id("resource-code-sequence", classification_code)

    @event("Started")
    def __init__(self, classification_code: str) -> None:
        self.classification_code = classification_code
        self.last = 0

    def issue(self, classification: Classification) -> str:
        self._issued(number=self.last + 1)
        return resource_code(classification, self.last)

    @event("Issued")
    def _issued(self, number: int) -> None:
        self.last = number


class DataAsset(Aggregate):
    """A dataset a department registers, versions, has reviewed and publishes."""

    @staticmethod
    def create_id(resource_code: str) -> UUID:
        return natural_id("asset", resource_code)

    @classmethod
    def register(cls, *, resource_code: str, department_id: str, metadata: AssetMetadata,
                 by: Actor) -> "DataAsset":
        _check_publisher_of(by, department_id)
        return cls(resource_code=resource_code, department_id=department_id,
                   metadata=metadata.record(), by=by.record())

    @event("Registered")
    def __init__(self, resource_code: str, department_id: str, metadata: dict[str, Any],
                 by: dict[str, Any]) -> None:
        self.resource_code = resource_code
        self.department_id = department_id
        self.metadata = metadata
        self.status = AssetStatus.DRAFT.value
        self.versions: list[dict[str, Any]] = []
        self.approved_schemas: list[str] = []
        self.current_version: int | None = None
        self.submitted_version: int | None = None
        self.cleared_columns: dict[str, str] = {}

    # ---- queries -------------------------------------------------------------------------

    @property
    def lifecycle(self) -> AssetStatus:
        return AssetStatus(self.status)

    def get_version(self, number: int) -> dict[str, Any]:
        if not 1 <= number <= len(self.versions):
            raise UnknownVersionError(f"this asset has no version {number}", field="version")
        return self.versions[number - 1]

    def detected_kind(self, column: str) -> str | None:
        """The kind the latest version that has ``column`` detected it as, if any."""
        for version in reversed(self.versions):
            if any(c["name"] == column for c in version["columns"]):
                return version.get("personal", {}).get(column)
        return None

    # ---- commands ------------------------------------------------------------------------

    def update_metadata(self, metadata: AssetMetadata, *, by: Actor) -> None:
        _check_publisher_of(by, self.department_id)
        if self.lifecycle not in EDITABLE:
            raise InvalidStateError(
                f"a {self.status} asset cannot be edited; withdraw it first", field="status")
        if metadata.classification.record() != self.metadata["classification"]:
            raise InvalidInputError(
                "the classification is part of the resource code and cannot change; "
                "register a new asset instead", field="classification")
        self._metadata_updated(metadata=metadata.record(), by=by.record())

    @event("MetadataUpdated")
    def _metadata_updated(self, metadata: dict[str, Any], by: dict[str, Any]) -> None:
        self.metadata = metadata

    def add_version(self, *, table: str, columns: list[dict[str, Any]], row_count: int,
                    content_hash: str, encoding: str, source_format: str, bytes_read: int,
                    quality: dict[str, Any], by: Actor,
                    personal: dict[str, str] | None = None) -> int:
        """Record an imported version (its rows already sit in ``table``); returns its number.

        :param personal: the columns the import detected as personal data, with their kind
            (``Sensitivity`` values); versions recorded before detection existed have none
        """
        _check_publisher_of(by, self.department_id)
        number = len(self.versions) + 1
        self._version_added(version={
            "number": number, "table": table, "columns": columns, "row_count": row_count,
            "content_hash": content_hash, "encoding": encoding, "format": source_format,
            "bytes": bytes_read, "quality": quality, "schema": schema_fingerprint(columns),
            "personal": dict(personal or {}),
        }, by=by.record())
        return number

    @event("VersionAdded")
    def _version_added(self, version: dict[str, Any], by: dict[str, Any]) -> None:
        self.versions.append(version)

    def submit_for_review(self, version: int, *, by: Actor) -> None:
        _check_publisher_of(by, self.department_id)
        self.get_version(version)
        if self.lifecycle not in EDITABLE:
            raise InvalidStateError(f"a {self.status} asset cannot be submitted for review",
                                    field="status")
        self._submitted(version=version, by=by.record())

    @event("SubmittedForReview")
    def _submitted(self, version: int, by: dict[str, Any]) -> None:
        self.status = AssetStatus.SUBMITTED.value
        self.submitted_version = version

    def approve(self, *, reason: str, by: Actor) -> None:
        self._check_review(by)
        self._approved(schema=self.get_version(self.submitted_version or 0)["schema"],
                       reason=(reason or "").strip()[:2000], by=by.record())

    @event("Approved")
    def _approved(self, schema: str, reason: str, by: dict[str, Any]) -> None:
        self.status = AssetStatus.APPROVED.value
        if schema not in self.approved_schemas:
            self.approved_schemas.append(schema)

    def reject(self, *, reasons: list[str], by: Actor) -> None:
        self._check_review(by)
        cleaned = [r.strip()[:2000] for r in reasons if r and r.strip()]
        if not cleaned:
            raise InvalidInputError("a rejection gives at least one reason", field="reasons")
        self._rejected(reasons=cleaned, by=by.record())

    @event("Rejected")
    def _rejected(self, reasons: list[str], by: dict[str, Any]) -> None:
        self.status = AssetStatus.REJECTED.value

    def publish(self, version: int, *, by: Actor) -> None:
        _check_publisher_of(by, self.department_id)
        chosen = self.get_version(version)
        if self.lifecycle not in (AssetStatus.APPROVED, AssetStatus.PUBLISHED):
            raise NotApprovedError(
                f"a {self.status} asset cannot be published: the open review must approve it first",
                field="status")
        if chosen["schema"] not in self.approved_schemas:
            raise NotApprovedError(
                f"version {version} has columns the open review has not approved; "
                "submit it for review", field="version")
        self._published(version=version, by=by.record())

    @event("Published")
    def _published(self, version: int, by: dict[str, Any]) -> None:
        self.status = AssetStatus.PUBLISHED.value
        self.current_version = version

    def withdraw(self, *, reason: str, by: Actor) -> None:
        if by.role is not Role.ADMIN:
            _check_publisher_of(by, self.department_id)
        if self.lifecycle is not AssetStatus.PUBLISHED:
            raise InvalidStateError(f"a {self.status} asset is not published", field="status")
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInputError("a withdrawal gives its reason", field="reason")
        self._withdrawn(reason=reason[:2000], by=by.record())

    @event("Withdrawn")
    def _withdrawn(self, reason: str, by: dict[str, Any]) -> None:
        self.status = AssetStatus.WITHDRAWN.value
        self.current_version = None

    def clear_personal_column(self, column: str, *, reason: str, by: Actor) -> None:
        """A reviewer lifts the default-deny masking of a column the import detected as
        personal (BRIEF §6: masked until a reviewer clears it with a reason).

        The clearance is of the column *and the kind detected*: a later version in which the
        column is detected as another kind is masked again.
        """
        if by.role is not Role.REVIEWER:
            raise NotPermittedError("only an open-data reviewer clears a detected personal column")
        if by.department_id is not None and by.department_id == self.department_id:
            raise SelfReviewError("a reviewer cannot clear columns of their own department's asset",
                                  field="column")
        kind = self.detected_kind(column)
        if kind is None:
            raise InvalidInputError(f"no version of this asset has a column {column!r} detected as "
                                    "personal data", field="column", code="NOT_DETECTED")
        declared = {i["name"]: i.get("sensitivity", "none")
                    for i in self.metadata.get("information_items", [])}
        if declared.get(column, "none") != "none":
            raise InvalidStateError(
                f"the publisher declared {column!r} as {declared[column]}; a clearance lifts only "
                "a detection", field="column", code="DECLARED_PERSONAL")
        if self.cleared_columns.get(column) == kind:
            raise InvalidStateError(f"{column!r} is already cleared", field="column",
                                    code="ALREADY_CLEARED")
        text = (reason or "").strip()
        if not text:
            raise InvalidInputError("a clearance gives its reason in writing", field="reason")
        self._personal_column_cleared(column=column, kind=kind, reason=text[:2000], by=by.record())

    @event("PersonalColumnCleared")
    def _personal_column_cleared(self, column: str, kind: str, reason: str,
                                 by: dict[str, Any]) -> None:
        self.cleared_columns[column] = kind

    # ---- rules ---------------------------------------------------------------------------

    def _check_review(self, by: Actor) -> None:
        if by.role is not Role.REVIEWER:
            raise NotPermittedError("only an open-data reviewer reviews assets")
        if by.department_id is not None and by.department_id == self.department_id:
            raise SelfReviewError("a reviewer cannot review an asset of their own department")
        if self.lifecycle is not AssetStatus.SUBMITTED:
            raise InvalidStateError(f"a {self.status} asset is not waiting for review",
                                    field="status")


def _check_publisher_of(actor: Actor, department_id: str) -> None:
    if actor.role is not Role.PUBLISHER:
        raise NotPermittedError("only a department publisher manages data assets")
    if actor.department_id != department_id:
        raise NotPermittedError("a publisher manages only their own department's assets")


def schema_fingerprint(columns: list[dict[str, Any]]) -> str:
    """The approved-schema identity: column names and types in order."""
    return "|".join(f"{c['name']}:{c['type']}" for c in columns)


def check_manages(actor: Actor, department_id: str) -> None:
    """Raise unless ``actor`` publishes for ``department_id`` (checked before costly imports)."""
    _check_publisher_of(actor, department_id)
