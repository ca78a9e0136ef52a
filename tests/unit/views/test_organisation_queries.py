"""The organisations view's rules: members see the organisations they belong to and nothing of
others (the same answer as no such organisation), administrators any; API keys and
notifications follow the same scope; the fresh reads show the caller's own change."""

from __future__ import annotations

import pytest

from domain.actors import Actor, Role
from marketplace.views.organisations import OrganisationQueries, organisation_in_scope

ORG, OTHER_ORG, MISSING_ORG = "org-1", "org-2", "org-404"
MEMBER = Actor("m1", "李明", Role.MEMBER, organisation_id=ORG)
OTHER_MEMBER = Actor("m2", "王芳", Role.MEMBER, organisation_id=OTHER_ORG)
#: acts for ORG in their token, but was never added to it
OUTSIDER = Actor("m9", "赵强", Role.MEMBER, organisation_id=ORG)
ADMIN = Actor("a1", "管理员", Role.ADMIN)
PUBLISHER = Actor("p1", "交通局数据专员", Role.PUBLISHER, department_id="dep-transport")
ANONYMOUS = Actor("anonymous", "anonymous", Role.ANONYMOUS)


@pytest.fixture
def queries(market) -> OrganisationQueries:
    market.organisation(ORG, "m1", "李明")
    market.organisation(OTHER_ORG, "m2", "王芳", credit_code="91341500MA2N000002")
    market.record("ApiKey", "Issued", "key-1", organisation_id=ORG, name="ETL",
                  scopes=("rows:read",), prefix="abcd1234", secret_hash="h1", expires_at=None,
                  by={"id": "m1", "name": "李明"})
    market.record("ApiKey", "Issued", "key-2", organisation_id=OTHER_ORG, name="BI",
                  scopes=("rows:read",), prefix="efgh5678", secret_hash="h2", expires_at=None,
                  by={"id": "m2", "name": "王芳"})
    market.plan("plan-1", "bus", "免费版")
    market.subscription("sub-1", ORG, "plan-1", "bus")
    market.record("Subscription", "Suspended", "sub-1", reason="发票逾期未付")
    market.record("Subscription", "Reinstated", "sub-1")
    market.catch_up()
    return OrganisationQueries(market.view, market.catch_up)


def test_the_scope_rule_a_member_their_own_organisations_an_admin_any(queries, market) -> None:
    assert organisation_in_scope(market.view, MEMBER, None) == ORG  # the one they act for
    assert organisation_in_scope(market.view, MEMBER, ORG) == ORG
    assert organisation_in_scope(market.view, MEMBER, OTHER_ORG) is None
    assert organisation_in_scope(market.view, OUTSIDER, None) is None
    assert organisation_in_scope(market.view, MEMBER, MISSING_ORG) is None
    assert organisation_in_scope(market.view, ADMIN, OTHER_ORG) == OTHER_ORG
    assert organisation_in_scope(market.view, ADMIN, None) is None
    assert organisation_in_scope(market.view, PUBLISHER, ORG) is None
    assert organisation_in_scope(market.view, ANONYMOUS, ORG) is None
    assert queries.in_scope(MEMBER, OTHER_ORG) is None


def test_my_organisations_are_a_members_own(queries) -> None:
    assert [o["id"] for o in queries.my_organisations(MEMBER)] == [ORG]
    assert queries.my_organisations(OUTSIDER) == []
    assert queries.my_organisations(ADMIN) == []  # administrators belong to no organisation
    mine = queries.my_organisation(MEMBER)
    assert mine is not None and mine["members"] == {"m1": {"name": "李明", "role": "owner"}}
    assert queries.my_organisation(OUTSIDER) is None
    assert queries.my_organisation(ADMIN) is None


def test_another_organisations_keys_are_as_if_there_were_none(queries) -> None:
    assert [k["name"] for k in queries.api_keys(MEMBER)] == ["ETL"]
    assert queries.api_keys(MEMBER, OTHER_ORG) == []
    assert queries.api_keys(MEMBER, MISSING_ORG) == []
    assert queries.api_keys(OUTSIDER) == []
    assert [k["name"] for k in queries.api_keys(ADMIN, OTHER_ORG)] == ["BI"]
    assert queries.api_keys(PUBLISHER, ORG) == []


def test_notifications_newest_first_and_only_to_the_organisation_told(queries) -> None:
    told = queries.notifications(MEMBER)
    assert [(n["kind"], n["reason"]) for n in told] == [
        ("subscription_reinstated", None), ("subscription_suspended", "发票逾期未付")]
    assert {n.get("subscription_id") for n in told} == {"sub-1"}
    assert queries.notifications(OTHER_MEMBER) == []
    assert queries.notifications(MEMBER, OTHER_ORG) == []
    assert len(queries.notifications(ADMIN, ORG)) == 2
    assert queries.notifications(ANONYMOUS, ORG) == []


def test_a_fresh_read_shows_the_callers_own_change(queries, market) -> None:
    market.member_added(ORG, "m3", "陈静")
    market.record("ApiKey", "Revoked", "key-1")
    stale = queries.organisation(ORG)
    assert stale is not None and "m3" not in stale["members"]  # the follower has not run yet
    fresh = queries.organisation(ORG, fresh=True)
    assert fresh is not None and fresh["members"]["m3"] == {"name": "陈静", "role": "member"}
    key = queries.api_key(ORG, "key-1", fresh=True)
    assert key is not None and key["revoked"]
    assert queries.api_key(ORG, "key-2") is None  # another organisation's key


def test_a_plain_read_does_not_catch_up(queries, market) -> None:
    before = market.catch_ups
    queries.my_organisations(MEMBER)
    queries.api_keys(MEMBER)
    queries.notifications(MEMBER)
    queries.organisation(ORG)
    assert market.catch_ups == before
