"""Catalogue mutations: register, upload a version, submit, review, publish, withdraw."""

from __future__ import annotations

from typing import Any, Callable

import graphene
from starlette.concurrency import run_in_threadpool

from domain.asset import DataAsset as DomainAsset
from domain.errors import DomainError
from domain.metadata import AssetMetadata
from marketplace.api.auth import require_staff
from marketplace.api.catalogue import types as t
from marketplace.api.catalogue.errors import KNOWN, CatalogueError
from marketplace.api.payload import as_user_error, attempt, plain
from marketplace.api.scalars import Upload


class ClassificationInput(graphene.InputObjectType):
    class_code = t.ResourceClass(required=True)
    item_code = graphene.String(required=True, description="项: 2 digits.")
    catalog_code = graphene.String(required=True, description="目: 3 digits.")
    detail_code = graphene.String(description="细目: 2 digits, optional.")


class InformationItemInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    data_type = t.DataType(required=True)
    description = graphene.String()
    sensitivity = t.Sensitivity(default_value=t.Sensitivity.NONE.value)
    key = graphene.Boolean(default_value=False)
    filterable = graphene.Boolean(
        default_value=False,
        description="Users filter or sort by it: indexed at every upload. When no item is declared "
                    "filterable, the keys, date columns and area columns are.")


class SharingInput(graphene.InputObjectType):
    type = t.SharingType(required=True)
    condition = graphene.String()
    mode = graphene.String()
    legal_basis = graphene.String(description="Required unless unconditional.")


class OpeningInput(graphene.InputObjectType):
    type = t.OpenType(required=True)
    condition = graphene.String()
    legal_basis = graphene.String(description="Required unless unconditional.")


class AssetMetadataInput(graphene.InputObjectType):
    """The catalogue metadata of an asset (BRIEF §3)."""

    name = graphene.String(required=True)
    classification = graphene.Field(ClassificationInput, required=True)
    abstract = graphene.String(required=True)
    format = graphene.String(required=True)
    category = t.Category(required=True)
    information_items = graphene.List(graphene.NonNull(InformationItemInput), required=True)
    sharing = graphene.Field(SharingInput, required=True)
    opening = graphene.Field(OpeningInput, required=True)
    update_cycle = t.UpdateCycle(required=True)
    security_level = graphene.Int(required=True, description="1 (lowest) to 4.")
    related_codes = graphene.List(graphene.NonNull(graphene.String))
    keywords = graphene.List(graphene.NonNull(graphene.String))


class ColumnTypeInput(graphene.InputObjectType):
    """Override the inferred type of one column."""

    column = graphene.String(required=True)
    type = t.DataType(required=True)


SourceFormat = graphene.Enum("SourceFormat", [("CSV", "csv"), ("XLSX", "xlsx"), ("JSONL", "jsonl")])


class AssetPayload(graphene.ObjectType):
    asset = graphene.Field(t.DataAsset)
    errors = graphene.List(graphene.NonNull(CatalogueError), required=True)


class UploadVersionPayload(graphene.ObjectType):
    asset = graphene.Field(t.DataAsset)
    version = graphene.Field(t.AssetVersion)
    quality = graphene.types.generic.GenericScalar(description="The import's quality report.")
    errors = graphene.List(graphene.NonNull(CatalogueError), required=True)


def _asset_payload(info: Any, command: Callable[[], DomainAsset],
                   metadata: dict | None = None) -> dict:
    if metadata is not None:
        try:  # checked here first so errors name their place inside the `metadata` argument
            AssetMetadata.parse(metadata)
        except DomainError as error:
            return {"errors": [as_user_error(error, KNOWN, prefix="metadata")]}
    return attempt(KNOWN, command, lambda asset: {"asset": _entry(info, asset)})


def _entry(info: Any, asset: DomainAsset) -> Any:
    return info.context.catalogue_queries.changed_asset(str(asset.id))


class RegisterAsset(graphene.Mutation):
    """Register a data asset in the catalogue; its resource code is issued from the classification."""

    class Arguments:
        metadata = AssetMetadataInput(required=True)
        department_id = graphene.ID(description="Defaults to the publisher's own department.")

    Output = AssetPayload

    @staticmethod
    def mutate(root: Any, info: Any, metadata: Any, department_id: str | None = None) -> dict:
        actor = require_staff(info)
        values = plain(metadata)
        return _asset_payload(info, lambda: info.context.catalogue.register_asset(
            department_id=department_id or actor.department_id or "", metadata=values, by=actor), values)


class UpdateAssetMetadata(graphene.Mutation):
    """Change the metadata of a draft, rejected or withdrawn asset."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        metadata = AssetMetadataInput(required=True)

    Output = AssetPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, metadata: Any) -> dict:
        actor = require_staff(info)
        values = plain(metadata)
        return _asset_payload(info, lambda: info.context.catalogue.update_asset_metadata(
            asset_id, values, by=actor), values)


class UploadVersion(graphene.Mutation):
    """Upload a version of the asset's rows (CSV in UTF-8 or GB18030, XLSX, or JSON lines),
    sent as a GraphQL multipart request. The rows stream into a new immutable table."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        file = Upload(required=True)
        format = SourceFormat(description="Taken from the file name when omitted.")
        type_overrides = graphene.List(graphene.NonNull(ColumnTypeInput))

    Output = UploadVersionPayload

    @staticmethod
    async def mutate(root: Any, info: Any, asset_id: str, file: Any, format: Any = None,
                     type_overrides: list | None = None) -> UploadVersionPayload:
        actor = require_staff(info)
        source_format = plain(format) or _format_from_name(getattr(file, "filename", "") or "")
        overrides = {o["column"]: plain(o["type"]) for o in (type_overrides or [])}
        catalogue = info.context.catalogue
        try:
            asset, number = await run_in_threadpool(
                catalogue.upload_version, asset_id, file.file, source_format=source_format,
                by=actor, type_overrides=overrides, max_bytes=info.context.max_upload_bytes)
        except DomainError as error:
            return UploadVersionPayload(errors=[as_user_error(error, KNOWN)])
        entry = await run_in_threadpool(_entry, info, asset)
        version = asset.get_version(number)
        summary = entry["versions"][number - 1] if entry else None
        return UploadVersionPayload(asset=entry, version=summary, quality=version["quality"], errors=[])


def _format_from_name(filename: str) -> str:
    lower = filename.lower()
    for suffix, name in ((".xlsx", "xlsx"), (".jsonl", "jsonl"), (".ndjson", "jsonl")):
        if lower.endswith(suffix):
            return name
    return "csv"


class SubmitForReview(graphene.Mutation):
    """Send a version of the asset to open review."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        version = graphene.Int(required=True)

    Output = AssetPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, version: int) -> dict:
        actor = require_staff(info)
        return _asset_payload(info, lambda: info.context.catalogue.submit_for_review(
            asset_id, version, by=actor))


class ApproveAsset(graphene.Mutation):
    """Open review: approve the submitted version for opening (reviewers)."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    Output = AssetPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, reason: str) -> dict:
        actor = require_staff(info)
        return _asset_payload(info, lambda: info.context.catalogue.approve(
            asset_id, reason=reason, by=actor))


class RejectAsset(graphene.Mutation):
    """Open review: reject the submitted version, with reasons (reviewers)."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        reasons = graphene.List(graphene.NonNull(graphene.String), required=True)

    Output = AssetPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, reasons: list[str]) -> dict:
        actor = require_staff(info)
        return _asset_payload(info, lambda: info.context.catalogue.reject(
            asset_id, reasons=reasons, by=actor))


class PublishAsset(graphene.Mutation):
    """Publish an approved asset: the chosen version becomes the current one."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        version = graphene.Int(required=True)

    Output = AssetPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, version: int) -> dict:
        actor = require_staff(info)
        return _asset_payload(info, lambda: info.context.catalogue.publish(
            asset_id, version, by=actor))


class WithdrawAsset(graphene.Mutation):
    """Take a published asset out of the open catalogue, with the reason."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    Output = AssetPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, reason: str) -> dict:
        actor = require_staff(info)
        return _asset_payload(info, lambda: info.context.catalogue.withdraw(
            asset_id, reason=reason, by=actor))


class ClearPersonalColumn(graphene.Mutation):
    """Open review: clear a column the import detected as personal data, with a written reason
    (reviewers). Until then it is masked in every tier short of full."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        column = graphene.String(required=True)
        reason = graphene.String(required=True)

    Output = AssetPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, column: str, reason: str) -> dict:
        actor = require_staff(info)
        return _asset_payload(info, lambda: info.context.catalogue.clear_personal_column(
            asset_id, column, reason=reason, by=actor))


class DepartmentPayload(graphene.ObjectType):
    department = graphene.Field(t.Department)
    errors = graphene.List(graphene.NonNull(CatalogueError), required=True)


class RegisterDepartment(graphene.Mutation):
    """Register a providing department by its unified social credit code (administrators)."""

    class Arguments:
        code = graphene.String(required=True, description="GB 32100 unified social credit code.")
        name = graphene.String(required=True)
        contact = graphene.String()

    Output = DepartmentPayload

    @staticmethod
    def mutate(root: Any, info: Any, code: str, name: str, contact: str = "") -> DepartmentPayload:
        actor = require_staff(info)
        try:
            department = info.context.catalogue.register_department(
                code=code, name=name, contact=contact, by=actor)
        except DomainError as error:
            return DepartmentPayload(errors=[as_user_error(error, KNOWN)])
        info.context.catalogue_queries.refresh()
        return DepartmentPayload(department={"id": str(department.id), "name": department.name,
                                             "code": department.code, "contact": department.contact},
                                 errors=[])



class CatalogueMutations(graphene.ObjectType):
    register_department = RegisterDepartment.Field()
    register_asset = RegisterAsset.Field()
    update_asset_metadata = UpdateAssetMetadata.Field()
    upload_version = UploadVersion.Field()
    submit_for_review = SubmitForReview.Field()
    approve_asset = ApproveAsset.Field()
    reject_asset = RejectAsset.Field()
    publish_asset = PublishAsset.Field()
    withdraw_asset = WithdrawAsset.Field()
    clear_personal_column = ClearPersonalColumn.Field()
