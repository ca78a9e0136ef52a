"""The data asset's open-review lifecycle and its guards."""

from __future__ import annotations

import pytest

from domain.actors import Actor, Role
from domain.asset import DataAsset, ResourceCodeSequence
from domain.errors import (
    InvalidInputError,
    InvalidStateError,
    NotApprovedError,
    NotPermittedError,
    SelfReviewError,
    UnknownVersionError,
)
from domain.metadata import AssetMetadata

DEPT, OTHER = "dept-transport", "dept-health"
PUBLISHER = Actor("p1", "王芳", Role.PUBLISHER, DEPT)
STRANGER = Actor("p2", "李强", Role.PUBLISHER, OTHER)
REVIEWER = Actor("r1", "审查员", Role.REVIEWER)
OWN_REVIEWER = Actor("r2", "本部门审查员", Role.REVIEWER, DEPT)
COLUMNS = [{"name": "站点编号", "type": "string"}, {"name": "经度", "type": "decimal"}]


def _asset(metadata_factory) -> DataAsset:
    metadata = AssetMetadata.parse(metadata_factory())
    code = ResourceCodeSequence(classification_code=metadata.classification.code).issue(metadata.classification)
    return DataAsset.register(resource_code=code, department_id=DEPT, metadata=metadata, by=PUBLISHER)


def _add_version(asset: DataAsset, columns=COLUMNS) -> int:
    return asset.add_version(table="t", columns=columns, row_count=2, content_hash="sha256:x",
                             encoding="utf-8", source_format="csv", bytes_read=10, quality={},
                             by=PUBLISHER)


def _approved(metadata_factory) -> DataAsset:
    asset = _asset(metadata_factory)
    asset.submit_for_review(_add_version(asset), by=PUBLISHER)
    asset.approve(reason="ok", by=REVIEWER)
    return asset


def test_registration_issues_the_first_resource_code_of_the_classification(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    assert asset.resource_code == "208001/000001"
    assert asset.status == "draft"


def test_the_sequence_issues_consecutive_codes(metadata_factory) -> None:
    metadata = AssetMetadata.parse(metadata_factory())
    sequence = ResourceCodeSequence(classification_code=metadata.classification.code)
    assert [sequence.issue(metadata.classification) for _ in range(3)] == [
        "208001/000001", "208001/000002", "208001/000003"]


def test_a_reviewed_and_approved_version_is_published_as_current(metadata_factory) -> None:
    asset = _approved(metadata_factory)
    asset.publish(1, by=PUBLISHER)
    assert (asset.status, asset.current_version) == ("published", 1)


def test_publishing_without_approval_is_refused(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    _add_version(asset)
    with pytest.raises(NotApprovedError):
        asset.publish(1, by=PUBLISHER)
    assert asset.status == "draft" and asset.current_version is None


def test_a_later_version_with_the_approved_columns_publishes_without_another_review(metadata_factory) -> None:
    asset = _approved(metadata_factory)
    asset.publish(1, by=PUBLISHER)
    asset.publish(_add_version(asset), by=PUBLISHER)
    assert asset.current_version == 2


def test_a_version_with_new_columns_needs_another_review(metadata_factory) -> None:
    asset = _approved(metadata_factory)
    number = _add_version(asset, COLUMNS + [{"name": "身份证号", "type": "string"}])
    with pytest.raises(NotApprovedError, match="not approved"):
        asset.publish(number, by=PUBLISHER)


def test_a_reviewer_cannot_review_their_own_departments_asset(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    asset.submit_for_review(_add_version(asset), by=PUBLISHER)
    with pytest.raises(SelfReviewError):
        asset.approve(reason="ok", by=OWN_REVIEWER)
    assert asset.status == "submitted"


def test_a_publisher_cannot_touch_another_departments_asset(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    with pytest.raises(NotPermittedError):
        _add_version_as(asset, STRANGER)
    with pytest.raises(NotPermittedError):
        asset.update_metadata(AssetMetadata.parse(metadata_factory()), by=STRANGER)
    assert asset.versions == []


def _add_version_as(asset: DataAsset, actor: Actor) -> None:
    asset.add_version(table="t", columns=COLUMNS, row_count=1, content_hash="h", encoding="utf-8",
                      source_format="csv", bytes_read=1, quality={}, by=actor)


def test_only_reviewers_review(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    asset.submit_for_review(_add_version(asset), by=PUBLISHER)
    with pytest.raises(NotPermittedError):
        asset.approve(reason="mine", by=PUBLISHER)


def test_a_rejection_needs_a_reason_and_the_asset_can_be_resubmitted(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    asset.submit_for_review(_add_version(asset), by=PUBLISHER)
    with pytest.raises(InvalidInputError):
        asset.reject(reasons=["  "], by=REVIEWER)
    asset.reject(reasons=["姓名字段未脱敏"], by=REVIEWER)
    assert asset.status == "rejected"
    asset.submit_for_review(1, by=PUBLISHER)
    assert asset.status == "submitted"


def test_submitting_an_unknown_version_is_refused(metadata_factory) -> None:
    asset = _asset(metadata_factory)
    with pytest.raises(UnknownVersionError):
        asset.submit_for_review(1, by=PUBLISHER)


def test_withdrawing_takes_the_asset_out_and_needs_a_reason(metadata_factory) -> None:
    asset = _approved(metadata_factory)
    asset.publish(1, by=PUBLISHER)
    with pytest.raises(InvalidInputError):
        asset.withdraw(reason="", by=PUBLISHER)
    asset.withdraw(reason="数据有误，更正后重新发布", by=PUBLISHER)
    assert (asset.status, asset.current_version) == ("withdrawn", None)
    with pytest.raises(InvalidStateError):
        asset.withdraw(reason="again", by=PUBLISHER)


def test_a_published_asset_cannot_be_edited(metadata_factory) -> None:
    asset = _approved(metadata_factory)
    asset.publish(1, by=PUBLISHER)
    with pytest.raises(InvalidStateError):
        asset.update_metadata(AssetMetadata.parse(metadata_factory(name="新名称")), by=PUBLISHER)


def test_every_event_records_who_acted(metadata_factory) -> None:
    asset = _approved(metadata_factory)
    events = asset.collect_events()
    assert [type(e).__name__ for e in events] == ["Registered", "VersionAdded", "SubmittedForReview", "Approved"]
    assert [e.by["name"] for e in events] == ["王芳", "王芳", "王芳", "审查员"]
