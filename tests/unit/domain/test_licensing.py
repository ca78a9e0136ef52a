"""Licence templates keep every terms version; plans are validated and retired by administrators."""

from __future__ import annotations

import pytest
from eventsourcing.application import Application

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, InvalidStateError, NotPermittedError, UnknownVersionError
from domain.licensing import LicenceTemplate, Plan

ADMIN = Actor("a1", "管理员", Role.ADMIN)
PUBLISHER = Actor("p1", "王芳", Role.PUBLISHER, "dept-transport")
ASSET = "asset-bus-stops"


def _template(**overrides) -> LicenceTemplate:
    values = {"key": "luan-open", "name": "六安市公共数据开放许可", "kind": "open",
              "text": "第一版条款：可自由使用，须注明来源。", "summary": "注明来源即可使用", "by": ADMIN}
    return LicenceTemplate.create(**{**values, **overrides})


def _plan(**overrides) -> Plan:
    values = {"asset_id": ASSET, "name": "标准版", "licence_template_id": "tpl-1",
              "price": {"monthly_fee_fen": 9900, "per_1k_rows_fen": 50},
              "quotas": {"rows_per_month": 100_000, "calls_per_month": 10_000, "rate_limit_per_minute": 60},
              "overage": "bill", "field_tier": "masked", "item_overrides": {"身份证号": "dropped"},
              "by": ADMIN}
    return Plan.define(**{**values, **overrides})


def test_a_template_starts_at_terms_version_1_with_an_id_from_its_key() -> None:
    template = _template(key=" Luan-Open ")
    assert (template.key, template.current_version) == ("luan-open", 1)
    assert template.id == LicenceTemplate.create_id("luan-open")


def test_publishing_terms_adds_the_next_version_and_keeps_the_old_ones() -> None:
    template = _template()
    assert template.publish_terms(text="第二版条款：禁止转售。", summary="禁止转售", by=ADMIN) == 2
    assert template.current_version == 2
    assert template.terms_of(1)["text"] == "第一版条款：可自由使用，须注明来源。"
    assert template.current_terms == {"version": 2, "text": "第二版条款：禁止转售。", "summary": "禁止转售"}


def test_asking_for_a_terms_version_that_does_not_exist_is_refused() -> None:
    with pytest.raises(UnknownVersionError):
        _template().terms_of(2)


def test_publishing_unchanged_terms_is_refused() -> None:
    template = _template()
    with pytest.raises(InvalidInputError) as caught:
        template.publish_terms(text=" 第一版条款：可自由使用，须注明来源。 ", summary="同", by=ADMIN)
    assert caught.value.field == "text" and template.current_version == 1


def test_only_an_administrator_manages_templates() -> None:
    with pytest.raises(NotPermittedError):
        _template(by=PUBLISHER)
    template = _template()
    with pytest.raises(NotPermittedError):
        template.publish_terms(text="x", summary="y", by=PUBLISHER)


@pytest.mark.parametrize("overrides, field", [
    ({"key": "开放"}, "key"), ({"kind": "gratis"}, "kind"), ({"text": "  "}, "text"),
    ({"summary": ""}, "summary"), ({"name": ""}, "name"),
])
def test_an_invalid_template_names_the_field_at_fault(overrides, field) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _template(**overrides)
    assert caught.value.field == field


def test_a_template_replays_from_its_events_to_the_same_state() -> None:
    template = _template()
    template.publish_terms(text="v2", summary="s2", by=ADMIN)
    events = template.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "TermsPublished"]
    assert all(e.by["id"] == "a1" for e in events)
    copy = None
    for domain_event in events:
        copy = domain_event.mutate(copy)
    assert vars(copy) == vars(template)


def test_a_plan_records_its_price_quotas_and_field_tier_with_defaults_filled_in() -> None:
    plan = _plan(quotas={"rows_per_month": 1000})
    assert plan.id == Plan.create_id(ASSET, "标准版")
    assert plan.record() == {
        "plan_id": str(plan.id), "asset_id": ASSET, "name": "标准版", "licence_template_id": "tpl-1",
        "price": {"monthly_fee_fen": 9900, "per_1k_rows_fen": 50, "per_call_fen": 0},
        "quotas": {"rows_per_month": 1000, "calls_per_month": None, "rate_limit_per_minute": None},
        "overage": "bill", "field_tier": "masked", "item_overrides": {"身份证号": "dropped"},
        "retired": False}


def test_a_plan_without_any_price_is_free() -> None:
    assert _plan(price={}, overage="block").is_free
    assert not _plan().is_free


def test_billing_the_overage_needs_a_metered_price() -> None:
    with pytest.raises(InvalidInputError) as caught:
        _plan(price={"monthly_fee_fen": 9900}, overage="bill")
    assert caught.value.field == "overage"


@pytest.mark.parametrize("overrides, field", [
    ({"price": {"monthly_fee_fen": -1}}, "price.monthly_fee_fen"),
    ({"price": {"per_call_fen": 1.5}}, "price.per_call_fen"),
    ({"price": {"per_row_fen": 1}}, "price"),
    ({"quotas": {"rows_per_month": 0}}, "quotas.rows_per_month"),
    ({"quotas": {"calls_per_month": True}}, "quotas.calls_per_month"),
    ({"quotas": {"bytes_per_month": 1}}, "quotas"),
    ({"overage": "throttle"}, "overage"),
    ({"field_tier": "raw"}, "field_tier"),
    ({"item_overrides": {"姓名": "hidden"}}, "item_overrides.姓名"),
    ({"item_overrides": {" ": "full"}}, "item_overrides"),
])
def test_an_invalid_plan_names_the_field_at_fault(overrides, field) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _plan(**overrides)
    assert caught.value.field == field


def test_only_an_administrator_defines_and_retires_plans() -> None:
    with pytest.raises(NotPermittedError):
        _plan(by=PUBLISHER)
    plan = _plan()
    with pytest.raises(NotPermittedError):
        plan.retire(reason="停售", by=PUBLISHER)
    assert not plan.retired


def test_a_retired_plan_says_so_in_its_record_and_cannot_be_retired_twice() -> None:
    plan = _plan()
    plan.retire(reason="价格调整", by=ADMIN)
    assert plan.record()["retired"] is True
    with pytest.raises(InvalidStateError):
        plan.retire(reason="again", by=ADMIN)


def test_a_plan_survives_the_event_store_round_trip() -> None:
    plan = _plan()
    plan.retire(reason="价格调整", by=ADMIN)
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(plan)
    assert vars(app.repository.get(plan.id)) == vars(plan)
