"""The access applications view's rules: a member sees their organisation's applications, a
publisher those to their own department whatever they ask, an administrator all or one
organisation's, anyone else none; the fresh read shows a decision at once."""

from __future__ import annotations

import pytest

from domain.actors import Actor, Role
from marketplace.views.access_applications import AccessApplicationQueries

ORG, OTHER_ORG = "org-1", "org-2"
TRANSPORT, ECOLOGY = "dep-transport", "dep-ecology"
MEMBER = Actor("m1", "李明", Role.MEMBER, organisation_id=ORG)
OUTSIDER = Actor("m9", "赵强", Role.MEMBER, organisation_id=ORG)  # never added to ORG
ADMIN = Actor("a1", "管理员", Role.ADMIN)
PUBLISHER = Actor("p1", "交通局数据专员", Role.PUBLISHER, department_id=TRANSPORT)
PUBLISHER_WITHOUT_DEPARTMENT = Actor("p0", "无部门", Role.PUBLISHER)
REVIEWER = Actor("r1", "审核员", Role.REVIEWER, department_id=ECOLOGY)


@pytest.fixture
def queries(market) -> AccessApplicationQueries:
    market.organisation(ORG, "m1", "李明")
    market.organisation(OTHER_ORG, "m2", "王芳", credit_code="91341500MA2N000002")
    market.application("app-bus", ORG, "bus", TRANSPORT)
    market.application("app-air", ORG, "air", ECOLOGY)
    market.application("app-taxi", OTHER_ORG, "taxi", TRANSPORT)
    market.catch_up()
    return AccessApplicationQueries(market.view, market.catch_up)


def _ids(applications: list) -> list[str]:
    return [a["id"] for a in applications]


def test_a_member_sees_their_organisations_newest_first(queries) -> None:
    assert _ids(queries.applications(MEMBER)) == ["app-air", "app-bus"]
    assert queries.applications(MEMBER, OTHER_ORG) == []
    assert queries.applications(OUTSIDER) == []


def test_a_publisher_sees_their_departments_whatever_they_ask(queries) -> None:
    assert _ids(queries.applications(PUBLISHER)) == ["app-taxi", "app-bus"]
    assert _ids(queries.applications(PUBLISHER, OTHER_ORG)) == ["app-taxi", "app-bus"]
    assert queries.applications(PUBLISHER_WITHOUT_DEPARTMENT) == []


def test_an_administrator_sees_all_or_one_organisations(queries) -> None:
    assert _ids(queries.applications(ADMIN)) == ["app-taxi", "app-air", "app-bus"]
    assert _ids(queries.applications(ADMIN, OTHER_ORG)) == ["app-taxi"]


def test_anyone_else_sees_none(queries) -> None:
    assert queries.applications(REVIEWER) == []
    assert queries.applications(Actor("anonymous", "anonymous", Role.ANONYMOUS)) == []


def test_a_fresh_read_shows_the_decision_and_the_organisation_is_told(queries, market) -> None:
    market.record("AccessApplication", "Rejected", "app-bus", reasons=["用途不明确"],
                  by={"id": "p1", "name": "交通局数据专员"})
    stale = queries.application("app-bus")
    assert stale is not None and stale["status"] == "submitted"  # the follower has not run yet
    fresh = queries.application("app-bus", fresh=True)
    assert fresh is not None
    assert (fresh["status"], fresh["reasons"], fresh["decided_by"]) == (
        "rejected", ["用途不明确"], "交通局数据专员")
    [told] = market.view.notifications_of(ORG)
    assert (told["kind"], told.get("application_id"), told["reason"]) == (
        "application_rejected", "app-bus", "用途不明确")
