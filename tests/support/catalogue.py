"""Catalogue test data shared by every layer of the suite."""

from __future__ import annotations


def sample_metadata(**overrides: object) -> dict:
    """Catalogue metadata of a small open bus-stop asset; keyword arguments replace keys."""
    metadata: dict = {
        "name": "公交站点",
        "classification": {"class_code": "2", "item_code": "08", "catalog_code": "001", "detail_code": ""},
        "abstract": "六安市城区公交站点名称、所属线路与经纬度。",
        "format": "CSV",
        "category": "transport",
        "information_items": [
            {"name": "站点编号", "data_type": "string", "description": "", "sensitivity": "none", "key": True},
            {"name": "站点名称", "data_type": "string", "description": "", "sensitivity": "none", "key": False},
            {"name": "经度", "data_type": "decimal", "description": "", "sensitivity": "none", "key": False},
            {"name": "纬度", "data_type": "decimal", "description": "", "sensitivity": "none", "key": False},
        ],
        "sharing": {"type": "unconditional", "condition": "", "mode": "接口", "legal_basis": ""},
        "opening": {"type": "unconditional", "condition": "", "legal_basis": ""},
        "update_cycle": "monthly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["公交", "站点"],
    }
    metadata.update(overrides)
    return metadata

