"""What a catalogue entry holds, typed: the documents of the catalogue read model
(``marketplace.projections.catalogue_model`` writes them, as JSON) as the views hand them out.

The read model stores and returns plain dicts (``Entry``); these TypedDicts describe the same
mappings without copying them, so the read side is typed from the view up while graphene's types
still resolve from mappings. They live with the views, the read model's one reader for the API:
the projection's storage code keeps its plain dicts.
"""

from __future__ import annotations

from typing import TypedDict


class DepartmentEntry(TypedDict):
    """提供部门: a department providing data assets."""

    id: str
    code: str
    name: str
    contact: str | None


class ClassificationDoc(TypedDict):
    class_code: str
    item_code: str
    catalog_code: str
    detail_code: str


class InformationItemDoc(TypedDict):
    name: str
    data_type: str
    description: str
    sensitivity: str
    key: bool


class SharingDoc(TypedDict):
    type: str
    condition: str
    mode: str
    legal_basis: str


class OpeningDoc(TypedDict):
    type: str
    condition: str
    legal_basis: str


class AssetMetadataDoc(TypedDict):
    """The catalogue standard's metadata as recorded (``domain.metadata.AssetMetadata``)."""

    name: str
    classification: ClassificationDoc
    abstract: str
    format: str
    category: str
    information_items: list[InformationItemDoc]
    sharing: SharingDoc
    opening: OpeningDoc
    update_cycle: str
    security_level: int
    related_codes: list[str]
    keywords: list[str]


class VersionDoc(TypedDict):
    """An upload of the asset's rows. ``table`` names the datastore table: for staff only."""

    number: int
    row_count: int
    columns: list[dict[str, object]]
    content_hash: str
    format: str
    encoding: str
    bytes: int
    quality_score: int | None
    added_at: str
    table: str
    #: column → personal data kind detected by the import
    personal: dict[str, str]


class ClearanceDoc(TypedDict):
    """A reviewer's clearance of a column detected as personal."""

    kind: str
    reason: str
    by: str | None
    at: str


class CatalogueEntry(TypedDict):
    """数据资产 as the catalogue lists it: metadata, versions, review status."""

    id: str
    resource_code: str
    department_id: str
    department_name: str
    department_code: str
    metadata: AssetMetadataDoc
    #: a ``domain.asset.AssetStatus`` value
    status: str
    #: the published version's number, None when nothing is published
    current_version: int | None
    versions: list[VersionDoc]
    registered_at: str
    published_at: str | None
    updated_at: str
    #: column → its clearance
    cleared_columns: dict[str, ClearanceDoc]
