"""What a licence tier lets a caller see of personal data."""

from __future__ import annotations

import pytest

from domain.masking import RowMasker, mask_address, mask_id_number, mask_name, mask_phone
from domain.metadata import Sensitivity


@pytest.mark.parametrize("mask, value, shown", [
    (mask_id_number, "341502199001010017", "341502********0017"),
    (mask_id_number, "11010519491231002X", "110105********002X"),
    (mask_phone, "13812341234", "138****1234"),
    (mask_name, "张三", "张*"), (mask_name, "张小明", "张**"),
    (mask_address, "六安市金安区梅山南路12号", "六安市金安区****"),
    (mask_address, "金寨县梅山镇红军路8号", "金寨县****"),
])
def test_display_conventions(mask, value, shown) -> None:
    assert mask(value) == shown


@pytest.mark.parametrize("mask", [mask_id_number, mask_phone])
def test_values_too_short_to_mask_are_suppressed_not_leaked(mask) -> None:
    assert mask("1234") == "***"
    assert mask(None) is None


def test_a_masked_tier_masks_personal_items_and_leaves_the_rest() -> None:
    masker = RowMasker(["公民身份号码", "姓名", "所属区县"],
                       {"公民身份号码": Sensitivity.ID_NUMBER, "姓名": Sensitivity.NAME},
                       lambda column: "masked")
    rows = masker.apply([{"公民身份号码": "341502199001010017", "姓名": "王芳", "所属区县": "金安区"}])
    assert rows == [{"公民身份号码": "341502********0017", "姓名": "王*", "所属区县": "金安区"}]


def test_a_full_tier_changes_nothing_and_dropped_items_disappear() -> None:
    modes = {"姓名": "full", "联系电话": "dropped"}
    masker = RowMasker(["姓名", "联系电话"], {"姓名": Sensitivity.NAME, "联系电话": Sensitivity.PHONE},
                       lambda column: modes[column])
    assert masker.visible == ("姓名",)
    assert masker.apply([{"姓名": "王芳", "联系电话": "13812341234"}]) == [{"姓名": "王芳"}]


def test_health_data_is_suppressed_when_masked() -> None:
    masker = RowMasker(["诊断"], {"诊断": Sensitivity.HEALTH}, lambda column: "masked")
    assert masker.apply([{"诊断": "高血压"}]) == [{"诊断": "***"}]
