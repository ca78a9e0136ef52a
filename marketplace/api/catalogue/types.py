"""Catalogue types. Assets resolve from catalogue read-model entries (plain dicts)."""

from __future__ import annotations

from typing import Any

import graphene
from graphene.types.generic import GenericScalar

from domain import metadata as md
from domain.asset import AssetStatus as DomainAssetStatus
from marketplace.views.catalogue import HistoryLine
from marketplace.views.catalogue_entries import CatalogueEntry

Category = graphene.Enum.from_enum(md.Category, description="High-value open categories of the city plan.")
ResourceClass = graphene.Enum.from_enum(md.ResourceClass, description="类: base, theme or department resources.")
SharingType = graphene.Enum.from_enum(md.SharingType, description="共享类型 between departments.")
OpenType = graphene.Enum.from_enum(md.OpenType, description="开放类型 to society.")
UpdateCycle = graphene.Enum.from_enum(md.UpdateCycle, description="更新周期.")
DataType = graphene.Enum.from_enum(md.DataType, description="An information item's data type.")
Sensitivity = graphene.Enum.from_enum(md.Sensitivity, description="What personal data an item holds.")
AssetStatus = graphene.Enum.from_enum(DomainAssetStatus, description="Where an asset is in the open review.")


def _get(key: str) -> Any:
    return lambda parent, info: parent.get(key)


class Department(graphene.ObjectType):
    """提供部门: a department providing data assets."""

    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    code = graphene.String(required=True, description="提供方代码: the unified social credit code.")
    contact = graphene.String()

    @staticmethod
    def resolve_id(parent: dict, info: Any) -> str: return parent["id"]
    @staticmethod
    def resolve_name(parent: dict, info: Any) -> str: return parent["name"]
    @staticmethod
    def resolve_code(parent: dict, info: Any) -> str: return parent["code"]
    @staticmethod
    def resolve_contact(parent: dict, info: Any) -> str | None: return parent.get("contact")


class Classification(graphene.ObjectType):
    """类 / 项 / 目 / 细目."""

    class_code = graphene.String(required=True, resolver=_get("class_code"))
    item_code = graphene.String(required=True, resolver=_get("item_code"))
    catalog_code = graphene.String(required=True, resolver=_get("catalog_code"))
    detail_code = graphene.String(required=True, resolver=_get("detail_code"))
    code = graphene.String(required=True, description="前段码: the classification digits.")

    @staticmethod
    def resolve_code(parent: dict, info: Any) -> str:
        return "".join(parent[k] for k in ("class_code", "item_code", "catalog_code", "detail_code"))


class InformationItem(graphene.ObjectType):
    """信息项: one column of the resource."""

    name = graphene.String(required=True, resolver=_get("name"))
    data_type = graphene.Field(DataType, required=True, resolver=_get("data_type"))
    description = graphene.String(required=True, resolver=_get("description"))
    sensitivity = graphene.Field(Sensitivity, required=True, resolver=_get("sensitivity"))
    key = graphene.Boolean(required=True, resolver=_get("key"))
    filterable = graphene.Boolean(
        required=True, description="Declared filterable by the publisher: indexed at every upload. "
                                   "What a version really indexed is its columns' filterable.",
        resolver=lambda parent, info: bool(parent.get("filterable")))  # absent: recorded before the flag


class SharingAttributes(graphene.ObjectType):
    """共享属性."""

    type = graphene.Field(SharingType, required=True, resolver=_get("type"))
    condition = graphene.String(required=True, resolver=_get("condition"))
    mode = graphene.String(required=True, resolver=_get("mode"))
    legal_basis = graphene.String(required=True, resolver=_get("legal_basis"))


class OpenAttributes(graphene.ObjectType):
    """开放属性."""

    type = graphene.Field(OpenType, required=True, resolver=_get("type"))
    condition = graphene.String(required=True, resolver=_get("condition"))
    legal_basis = graphene.String(required=True, resolver=_get("legal_basis"))


class Column(graphene.ObjectType):
    """A column of a version's table, as imported."""

    name = graphene.String(required=True, resolver=_get("name"))
    type = graphene.Field(DataType, required=True, resolver=_get("type"))
    semantic = graphene.String(description="The identifier check run on it (citizen_id, uscc, mobile).",
                               resolver=_get("semantic"))
    key = graphene.Boolean(required=True, resolver=_get("key"))
    filterable = graphene.Boolean(
        required=True, resolver=lambda parent, info: parent.get("filterable", parent["key"]),
        description="Indexed: rows can be filtered (eq, in, a range) and sorted by it on a table of "
                    "any size; filters on other columns scan, refused over the scan budget. "
                    "(Versions uploaded before filterable columns existed indexed their keys alone.)")


class PersonalColumn(graphene.ObjectType):
    """A column of the latest version that the import detected as personal data: masked in
    every tier short of full until a reviewer clears it (or the publisher declares it)."""

    column = graphene.String(required=True, resolver=_get("column"))
    kind = graphene.Field(Sensitivity, required=True, resolver=_get("kind"))
    cleared = graphene.Boolean(required=True, resolver=_get("cleared"))
    cleared_reason = graphene.String(description="The reviewer's written reason, once cleared.",
                                     resolver=_get("cleared_reason"))


class AssetVersion(graphene.ObjectType):
    """An immutable upload of the asset's rows."""

    number = graphene.Int(required=True, resolver=_get("number"))
    row_count = graphene.Int(required=True, resolver=_get("row_count"))
    columns = graphene.List(graphene.NonNull(Column), required=True, resolver=_get("columns"))
    content_hash = graphene.String(required=True, resolver=_get("content_hash"))
    format = graphene.String(required=True, resolver=_get("format"))
    encoding = graphene.String(required=True, resolver=_get("encoding"))
    bytes = graphene.Float(required=True, description="Size of the upload in bytes.", resolver=_get("bytes"))
    quality_score = graphene.Int(description="Share of non-null, valid cells (0-100).",
                                 resolver=_get("quality_score"))
    added_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_added_at(parent: dict, info: Any) -> Any:
        return _datetime(parent["added_at"])


class HistoryEntry(graphene.ObjectType):
    """One event of the asset's life: who did what, when (from the event log)."""

    position = graphene.Int(required=True)
    event = graphene.String(required=True)
    at = graphene.DateTime(required=True)
    by_name = graphene.String()
    by_role = graphene.String()
    details = GenericScalar(description="The event's recorded facts.")

    @staticmethod
    def resolve_by_name(parent: Any, info: Any) -> str | None:
        return (parent.by or {}).get("name")

    @staticmethod
    def resolve_by_role(parent: Any, info: Any) -> str | None:
        return (parent.by or {}).get("role")


class DataAsset(graphene.ObjectType):
    """数据资产: a catalogue entry with its versions and review state."""

    id = graphene.ID(required=True, resolver=_get("id"))
    resource_code = graphene.String(required=True, description="信息资源代码.",
                                    resolver=_get("resource_code"))
    name = graphene.String(required=True)
    abstract = graphene.String(required=True)
    format = graphene.String(required=True)
    category = graphene.Field(Category, required=True)
    classification = graphene.Field(Classification, required=True)
    department = graphene.Field(Department, required=True)
    information_items = graphene.List(graphene.NonNull(InformationItem), required=True)
    sharing = graphene.Field(SharingAttributes, required=True)
    opening = graphene.Field(OpenAttributes, required=True)
    update_cycle = graphene.Field(UpdateCycle, required=True)
    security_level = graphene.Int(required=True)
    related_codes = graphene.List(graphene.NonNull(graphene.String), required=True)
    keywords = graphene.List(graphene.NonNull(graphene.String), required=True)
    status = graphene.Field(AssetStatus, required=True, resolver=_get("status"))
    current_version = graphene.Field(AssetVersion, description="The published version, if any.")
    versions = graphene.List(graphene.NonNull(AssetVersion), required=True, resolver=_get("versions"))
    history = graphene.List(graphene.NonNull(HistoryEntry), required=True)
    personal_columns = graphene.List(
        graphene.NonNull(PersonalColumn), required=True,
        description="Columns of the latest version detected as personal data, and their clearance.")
    registered_at = graphene.DateTime(required=True)
    published_at = graphene.DateTime()
    updated_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_department(parent: dict, info: Any) -> dict:
        return {"id": parent["department_id"], "name": parent["department_name"],
                "code": parent["department_code"]}

    @staticmethod
    def resolve_current_version(parent: dict, info: Any) -> dict | None:
        number = parent.get("current_version")
        return parent["versions"][number - 1] if number else None

    @staticmethod
    def resolve_history(parent: CatalogueEntry, info: Any) -> list[HistoryLine]:
        return info.context.catalogue_queries.history(info.context.actor, parent)

    @staticmethod
    def resolve_personal_columns(parent: dict, info: Any) -> list:
        if not parent.get("versions"):
            return []
        cleared = parent.get("cleared_columns") or {}
        out = []
        for column, kind in (parent["versions"][-1].get("personal") or {}).items():
            clearance = cleared.get(column)
            done = clearance is not None and clearance.get("kind") == kind
            out.append({"column": column, "kind": kind, "cleared": done,
                        "cleared_reason": clearance["reason"] if clearance and done else None})
        return out

    @staticmethod
    def resolve_registered_at(parent: dict, info: Any) -> Any:
        return _datetime(parent["registered_at"])

    @staticmethod
    def resolve_published_at(parent: dict, info: Any) -> Any:
        return _datetime(parent.get("published_at"))

    @staticmethod
    def resolve_updated_at(parent: dict, info: Any) -> Any:
        return _datetime(parent["updated_at"])


def _metadata_field(key: str) -> Any:
    return lambda parent, info: parent["metadata"][key]


for _key in ("name", "abstract", "format", "category", "classification", "information_items",
             "sharing", "opening", "update_cycle", "security_level", "related_codes", "keywords"):
    setattr(DataAsset, f"resolve_{_key}", staticmethod(_metadata_field(_key)))


def _datetime(value: str | None) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(value) if value else None


class PageInfo(graphene.ObjectType):
    end_cursor = graphene.String()
    has_next_page = graphene.Boolean(required=True)


class AssetConnection(graphene.ObjectType):
    """A page of catalogue entries, keyset-paginated by resource code."""

    nodes = graphene.List(graphene.NonNull(DataAsset), required=True)
    total_count = graphene.Int(required=True)
    page_info = graphene.Field(PageInfo, required=True)
