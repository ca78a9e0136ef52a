"""The licensing view's rules: anyone reads templates and plans (retired plans only when asked),
an organisation's subscriptions are its members' and the administrators'; the fresh reads show
the caller's own change."""

from __future__ import annotations

import pytest

from domain.actors import Actor, Role
from marketplace.views.licensing import LicensingQueries

ORG, OTHER_ORG = "org-1", "org-2"
MEMBER = Actor("m1", "李明", Role.MEMBER, organisation_id=ORG)
OTHER_MEMBER = Actor("m2", "王芳", Role.MEMBER, organisation_id=OTHER_ORG)
ADMIN = Actor("a1", "管理员", Role.ADMIN)
PUBLISHER = Actor("p1", "交通局数据专员", Role.PUBLISHER, department_id="dep-transport")
TERMS = {"version": 1, "summary": "署名", "text": "六安市公共数据开放许可 第1版"}


@pytest.fixture
def queries(market) -> LicensingQueries:
    market.organisation(ORG, "m1", "李明")
    market.organisation(OTHER_ORG, "m2", "王芳", credit_code="91341500MA2N000002")
    market.record("LicenceTemplate", "Created", "tpl-1", key="open-cc-by", name="开放许可",
                  kind="open", terms=TERMS)
    market.plan("plan-free", "bus", "免费版")
    market.plan("plan-pro", "bus", "企业版")
    market.record("Plan", "Retired", "plan-pro", reason="停售")
    market.subscription("sub-1", ORG, "plan-free", "bus")
    market.catch_up()
    return LicensingQueries(market.view, market.catch_up)


def test_templates_and_plans_are_for_anyone(queries) -> None:
    [template] = queries.licence_templates()
    assert template["key"] == "open-cc-by" and template["terms"] == [TERMS]
    assert template["current_version"] == 1
    assert [p["name"] for p in queries.plans("bus")] == ["免费版"]
    assert [p["name"] for p in queries.plans("bus", include_retired=True)] == ["企业版", "免费版"]
    assert queries.plans("air") == []


def test_subscriptions_are_the_organisations_members_and_the_administrators(queries) -> None:
    assert [s["id"] for s in queries.subscriptions(MEMBER)] == ["sub-1"]
    assert queries.subscriptions(MEMBER, OTHER_ORG) == []
    assert queries.subscriptions(OTHER_MEMBER, ORG) == []
    assert queries.subscriptions(OTHER_MEMBER) == []
    assert [s["id"] for s in queries.subscriptions(ADMIN, ORG)] == ["sub-1"]
    assert queries.subscriptions(ADMIN) == []  # an administrator names the organisation
    assert queries.subscriptions(PUBLISHER, ORG) == []


def test_a_fresh_read_shows_the_callers_own_change(queries, market) -> None:
    market.record("LicenceTemplate", "TermsPublished", "tpl-1",
                  terms={**TERMS, "version": 2, "text": "第2版"})
    market.plan("plan-new", "bus", "科研版")
    market.record("Subscription", "Revoked", "sub-1", reason="违规转售")
    assert queries.plan("plan-new") is None  # the follower has not run yet
    plan = queries.plan("plan-new", fresh=True)
    assert plan is not None and plan["quotas"]["rows_per_month"] == 1000
    template = queries.licence_template("tpl-1", fresh=True)
    assert template is not None and template["current_version"] == 2
    subscription = queries.subscription("sub-1", fresh=True)
    assert subscription is not None
    assert (subscription["status"], subscription["reason"]) == ("revoked", "违规转售")
