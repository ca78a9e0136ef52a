"""Catalogue metadata is checked against the standard, naming the field at fault."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInputError, LegalBasisRequiredError
from domain.metadata import AssetMetadata, check_resource_code


def test_complete_metadata_parses_and_records_as_plain_values(metadata_factory) -> None:
    parsed = AssetMetadata.parse(metadata_factory())
    assert parsed.classification.code == "208001"
    assert parsed.record() == AssetMetadata.parse(parsed.record()).record()


@pytest.mark.parametrize("classification, field", [
    ({"class_code": "4", "item_code": "01", "catalog_code": "001"}, "classification.class_code"),
    ({"class_code": "1", "item_code": "1", "catalog_code": "001"}, "classification.item_code"),
    ({"class_code": "1", "item_code": "01", "catalog_code": "01a"}, "classification.catalog_code"),
    ({"class_code": "1", "item_code": "01", "catalog_code": "001", "detail_code": "123"},
     "classification.detail_code"),
    ({"class_code": "1", "item_code": "00", "catalog_code": "001"}, "classification"),
])
def test_an_invalid_classification_names_the_bad_part(metadata_factory, classification, field) -> None:
    with pytest.raises(InvalidInputError) as caught:
        AssetMetadata.parse(metadata_factory(classification=classification))
    assert caught.value.field == field and caught.value.code == "INVALID_CLASSIFICATION"


@pytest.mark.parametrize("kind, restricted", [
    ("sharing", "conditional"), ("sharing", "not_shared"), ("opening", "conditional"), ("opening", "not_open"),
])
def test_a_restriction_without_legal_basis_is_refused(metadata_factory, kind, restricted) -> None:
    with pytest.raises(LegalBasisRequiredError) as caught:
        AssetMetadata.parse(metadata_factory(**{kind: {"type": restricted, "legal_basis": " "}}))
    assert caught.value.field == f"{kind}.legal_basis"


def test_a_restriction_citing_its_legal_basis_is_accepted(metadata_factory) -> None:
    parsed = AssetMetadata.parse(metadata_factory(
        opening={"type": "conditional", "legal_basis": "《中华人民共和国个人信息保护法》第十三条"}))
    assert parsed.opening.type.value == "conditional"


@pytest.mark.parametrize("code", ["101001000001", "101001/00001", "501001/000001", "", "101001/0000001"])
def test_malformed_resource_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_resource_code(code)
    assert caught.value.code == "INVALID_RESOURCE_CODE"


def test_related_codes_must_be_resource_codes(metadata_factory) -> None:
    with pytest.raises(InvalidInputError) as caught:
        AssetMetadata.parse(metadata_factory(related_codes=["not-a-code"]))
    assert caught.value.field == "related_codes"


@pytest.mark.parametrize("overrides, field", [
    ({"name": ""}, "name"), ({"category": "weather"}, "category"), ({"security_level": 5}, "security_level"),
    ({"security_level": True}, "security_level"), ({"update_cycle": "hourly"}, "update_cycle"),
    ({"information_items": []}, "information_items"),
    ({"information_items": [{"name": "a", "data_type": "blob"}]}, "information_items[0].data_type"),
    ({"information_items": [{"name": "a", "data_type": "string"}, {"name": "a", "data_type": "string"}]},
     "information_items[1].name"),
])
def test_each_bad_field_is_named(metadata_factory, overrides, field) -> None:
    with pytest.raises(InvalidInputError) as caught:
        AssetMetadata.parse(metadata_factory(**overrides))
    assert caught.value.field == field
