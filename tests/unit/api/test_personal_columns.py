"""Default-deny for personal columns nobody declared (issue 9, item 5): a column the import
detects as personal is masked in every tier short of full, anonymous callers included, until a
reviewer clears it with a written reason (``clearPersonalColumn``, an event on the asset)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from domain.actors import Actor, Role
from domain.identifiers import ric_check_char
from marketplace.bootstrap import build_in_memory
from marketplace.web.app import create_app
from support.api import GraphQLTestClient, operation
from support.catalogue import sample_metadata
from support.marketplace import ADMIN, PASSWORD, REVIEWER, credit_code, member_with_organisation

IDS = [h + ric_check_char(h) for h in (f"34150219900101{i:03d}" for i in range(1, 6))]


def _item(name: str, sensitivity: str = "none", key: bool = False) -> dict:
    return {"name": name, "data_type": "string", "description": "", "sensitivity": sensitivity,
            "key": key}


@pytest.fixture
def world() -> Iterator[dict]:
    bank = build_in_memory()
    department = bank.catalogue.register_department(code=credit_code(3, "11341500"), name="六安市民政局",
                                                    contact="", by=ADMIN)
    bank.staff.open_account(username="pub", name="民政局数据专员", role=Role.PUBLISHER, password=PASSWORD,
                            department_id=str(department.id), by=ADMIN)
    bank.staff.open_account(username="rev", name="审查员", role=Role.REVIEWER, password=PASSWORD, by=ADMIN)
    publisher = Actor("pub", "民政局数据专员", Role.PUBLISHER, str(department.id))
    # 证件 holds identity numbers but is declared as nothing personal.
    metadata = sample_metadata(name="志愿者名单", information_items=[
        _item("编号", key=True), _item("证件"), _item("服务队")])
    asset = bank.catalogue.register_asset(department_id=publisher.department_id, metadata=metadata,
                                          by=publisher)
    lines = ["编号,证件,服务队"] + [f"V{n},{pid},城北服务队" for n, pid in enumerate(IDS, 1)]
    asset, number = bank.catalogue.upload_version(str(asset.id), io.BytesIO("\n".join(lines).encode()),
                                                  source_format="csv", by=publisher)
    bank.catalogue.submit_for_review(str(asset.id), number, by=publisher)
    bank.catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    bank.catalogue.publish(str(asset.id), number, by=publisher)
    bank.catalogue_follower.catch_up()
    with TestClient(create_app(bank)) as http:
        yield {"bank": bank, "api": GraphQLTestClient(http), "asset": str(asset.id), "http": http}


def _anonymous_rows(world: dict) -> dict:
    body = world["http"].post("/graphql", json={"query": operation("Rows"), "variables": {
        "assetId": world["asset"], "first": 5}}).json()
    assert "errors" not in body, body
    return body["data"]["rows"]


def _clear(world: dict, as_user: str | None, column: str = "证件", reason: str = "志愿者编号为内部生成的测试号码"):
    api: GraphQLTestClient = world["api"]
    if as_user:
        api.login(as_user, PASSWORD)
    else:
        api.token = None
    return api.call("ClearPersonalColumn", assetId=world["asset"], column=column, reason=reason)


def test_an_undeclared_column_of_identity_numbers_is_masked_for_anonymous_callers(world) -> None:
    page = _anonymous_rows(world)
    assert "证件" in page["maskedColumns"]
    assert [r["证件"] for r in page["rows"]] == [pid[:6] + "*" * 12 for pid in IDS]
    assert page["rows"][0]["服务队"] == "城北服务队"


def test_a_reviewer_clears_it_with_a_reason_and_the_next_read_shows_it(world) -> None:
    _anonymous_rows(world)  # the masker is built and cached before the clearance
    payload = _clear(world, "rev")["data"]["clearPersonalColumn"]
    assert payload["errors"] == []
    assert payload["asset"]["personalColumns"] == [{
        "column": "证件", "kind": "ID_NUMBER", "cleared": True,
        "clearedReason": "志愿者编号为内部生成的测试号码"}]
    page = _anonymous_rows(world)
    assert "证件" not in page["maskedColumns"] and [r["证件"] for r in page["rows"]] == IDS
    history = world["bank"].catalogue.history(world["asset"])
    assert history[-1].event == "PersonalColumnCleared" and history[-1].by["name"] == "审查员"


@pytest.mark.parametrize("user, column, reason, code, field", [
    ("pub", "证件", "机构公开", "NOT_PERMITTED", None),
    ("rev", "证件", "  ", "INVALID_INPUT", "reason"),
    ("rev", "服务队", "不是个人信息", "NOT_DETECTED", "column"),
])
def test_refusals_name_the_problem_and_change_nothing(world, user, column, reason, code, field) -> None:
    payload = _clear(world, user, column, reason)["data"]["clearPersonalColumn"]
    assert payload["asset"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert "证件" in _anonymous_rows(world)["maskedColumns"]


def test_a_second_clearance_is_refused(world) -> None:
    _clear(world, "rev")
    payload = _clear(world, "rev")["data"]["clearPersonalColumn"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("ALREADY_CLEARED", "column")]


def test_an_anonymous_clearance_is_unauthenticated(world) -> None:
    body = _clear(world, None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_full_tier_subscriber_sees_the_detected_column_as_stored(world) -> None:
    bank = world["bank"]
    template = bank.licensing.create_licence_template(key="c-v1", name="商业数据许可", kind="commercial",
                                                       text="条款", summary="摘要", by=ADMIN)
    plan = bank.licensing.define_plan(asset_id=world["asset"], name="商业版",
                                        licence_template_id=str(template.id), price={},
                                        quotas={"rows_per_month": 100}, overage="block",
                                        field_tier="full", by=ADMIN)
    member, organisation = member_with_organisation(bank, n=9)
    bank.subscriptions.subscribe(organisation, str(plan.id), accepted_terms_version=1, by=member)
    _, key = bank.api_keys.create_api_key(organisation, name="k", scopes=["rows:read"], by=member)
    bank.entitlements_follower.catch_up()
    body = world["http"].post("/graphql", json={"query": operation("Rows"), "variables": {
        "assetId": world["asset"], "first": 5}}, headers={"Authorization": f"Bearer {key}"}).json()
    assert [r["证件"] for r in body["data"]["rows"]["rows"]] == IDS
