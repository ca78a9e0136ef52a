"""A column the import detected as personal stays masked until an open-data reviewer clears
it, with a written reason, as an event on the asset."""

from __future__ import annotations

import pytest

from domain.actors import Actor, Role
from domain.asset import DataAsset, ResourceCodeSequence
from domain.errors import DomainError
from domain.metadata import AssetMetadata

DEPT = "dept-transport"
PUBLISHER = Actor("p1", "王芳", Role.PUBLISHER, DEPT)
REVIEWER = Actor("r1", "审查员", Role.REVIEWER)
OWN_REVIEWER = Actor("r2", "本部门审查员", Role.REVIEWER, DEPT)
ADMIN = Actor("a1", "管理员", Role.ADMIN)
COLUMNS = [{"name": "站点编号", "type": "string"}, {"name": "站点名称", "type": "string"},
           {"name": "联系电话", "type": "string"}, {"name": "证件", "type": "string"}]


def _asset(metadata_factory, personal=None) -> DataAsset:
    metadata = AssetMetadata.parse(metadata_factory())
    code = ResourceCodeSequence(classification_code=metadata.classification.code).issue(metadata.classification)
    asset = DataAsset.register(resource_code=code, department_id=DEPT, metadata=metadata, by=PUBLISHER)
    asset.add_version(table="t", columns=COLUMNS, row_count=2, content_hash="sha256:x",
                      encoding="utf-8", source_format="csv", bytes_read=10, quality={}, by=PUBLISHER,
                      personal={"联系电话": "phone", "证件": "id_number"} if personal is None else personal)
    return asset


def _refusal(asset: DataAsset, column: str, reason: str = "机构公开电话", by: Actor = REVIEWER) -> tuple:
    with pytest.raises(DomainError) as refused:
        asset.clear_personal_column(column, reason=reason, by=by)
    return refused.value.code, refused.value.field


def test_a_reviewer_clears_a_detected_column_with_a_reason(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    asset.clear_personal_column("联系电话", reason="  机构对外公开电话 ", by=REVIEWER)
    (event,) = [e for e in asset.collect_events() if type(e).__name__ == "PersonalColumnCleared"]
    assert (event.column, event.kind, event.reason, event.by["name"]) == (
        "联系电话", "phone", "机构对外公开电话", "审查员")
    assert asset.cleared_columns == {"联系电话": "phone"}


@pytest.mark.parametrize("by, code", [(PUBLISHER, "NOT_PERMITTED"), (ADMIN, "NOT_PERMITTED"),
                                      (OWN_REVIEWER, "SELF_REVIEW")])
def test_only_a_reviewer_of_another_department_clears(metadata_factory, by, code) -> None:
    asset = _asset(metadata_factory)
    assert _refusal(asset, "联系电话", by=by)[0] == code
    assert asset.cleared_columns == {}


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_clearance_needs_a_written_reason(metadata_factory, reason) -> None:
    asset = _asset(metadata_factory)
    assert _refusal(asset, "联系电话", reason=reason) == ("INVALID_INPUT", "reason")


def test_only_a_detected_column_can_be_cleared(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    assert _refusal(asset, "站点名称") == ("NOT_DETECTED", "column")
    assert _refusal(asset, "血型") == ("NOT_DETECTED", "column")


def test_a_column_the_publisher_declared_personal_is_not_cleared(metadata_factory) -> None:
    metadata = metadata_factory()
    metadata["information_items"][1]["sensitivity"] = "name"
    asset = _asset(lambda: metadata, personal={"站点名称": "name"})
    assert _refusal(asset, "站点名称") == ("DECLARED_PERSONAL", "column")


def test_a_cleared_column_is_not_cleared_twice(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    asset.clear_personal_column("证件", reason="编号为测试数据", by=REVIEWER)
    assert _refusal(asset, "证件") == ("ALREADY_CLEARED", "column")


def test_the_latest_version_decides_what_is_detected(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    asset.add_version(table="t2", columns=COLUMNS, row_count=2, content_hash="sha256:y",
                      encoding="utf-8", source_format="csv", bytes_read=10, quality={}, by=PUBLISHER,
                      personal={"联系电话": "id_number"})
    assert asset.detected_kind("联系电话") == "id_number" and asset.detected_kind("证件") is None
    asset.clear_personal_column("联系电话", reason="核查为内部编号", by=REVIEWER)
    assert asset.cleared_columns == {"联系电话": "id_number"}


def test_versions_recorded_before_detection_have_no_detected_columns(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    del asset.versions[0]["personal"]  # the shape of a VersionAdded event of an older release
    assert asset.detected_kind("联系电话") is None
