"""One behaviour, every backend: the entitlements read model on memory, SQLite files and
PostgreSQL, fed from the Marketplace application's log."""

from __future__ import annotations

from datetime import date

import pytest

from domain.api_key import hash_secret, parse_api_key
from marketplace.bootstrap import DataBank
from support.marketplace import ADMIN, Clock, member_with_organisation, set_up_market


@pytest.fixture
def bank(bank: DataBank) -> DataBank:
    """The every-backend bank (tests/integration/conftest.py) on a fixed clock."""
    bank.market.clock = Clock()
    return bank


def test_a_key_is_found_by_the_hash_of_its_secret_until_revoked(bank: DataBank) -> None:
    member, org = member_with_organisation(bank)
    key, plaintext = bank.api_keys.create_api_key(org, name="ETL", scopes=["rows:read",
                                                                             "catalogue:read"],
                                                     by=member)
    bank.entitlements_follower.catch_up()
    record = bank.entitlements_view.key_by_hash(hash_secret(parse_api_key(plaintext)[1]))
    assert (record.key_id, record.organisation_id, record.scopes, record.revoked) == (
        str(key.id), org, ("catalogue:read", "rows:read"), False)
    assert bank.entitlements_view.key_by_hash(hash_secret("x" * 40)) is None
    bank.api_keys.revoke_api_key(str(key.id), by=member)
    bank.entitlements_follower.catch_up()
    assert bank.entitlements_view.key_by_hash(key.secret_hash).revoked
    assert [k["name"] for k in bank.entitlements_view.api_keys_of(org)] == ["ETL"]


def test_the_entitlement_is_the_active_plan_with_the_most_rows(bank: DataBank) -> None:
    market = set_up_market(bank)
    member, org = member_with_organisation(bank)
    asset = market.assets["unconditional"]
    big = bank.licensing.define_plan(asset_id=asset, name="企业版", licence_template_id=market.templates["open"],
                                       price={}, quotas={"rows_per_month": 1_000_000}, overage="block",
                                       field_tier="full", by=ADMIN)
    small = bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                       by=member)
    bank.subscriptions.subscribe(org, str(big.id), accepted_terms_version=1, by=member)
    bank.entitlements_follower.catch_up()
    best = bank.entitlements_view.entitlement(org, asset)
    assert (best.plan_id, best.rows_per_month, best.field_tier, best.ok) == (
        str(big.id), 1_000_000, "full", True)
    assert bank.entitlements_view.entitlement(org, market.assets["conditional"]) is None
    assert [s["id"] for s in bank.entitlements_view.subscriptions_of(org)][0] == str(small.id)
    assert [p["name"] for p in bank.entitlements_view.plans_of(asset)] == ["企业版", "免费版"]


def test_a_revoked_subscription_is_still_found_with_its_status(bank: DataBank) -> None:
    market = set_up_market(bank)
    member, org = member_with_organisation(bank)
    sub = bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                     by=member)
    bank.subscriptions.revoke_subscription(str(sub.id), reason="违规转售", by=ADMIN)
    bank.entitlements_follower.catch_up()
    found = bank.entitlements_view.entitlement(org, market.assets["unconditional"])
    assert (found.status, found.ok) == ("revoked", False)
    assert bank.entitlements_view.subscription(str(sub.id))["reason"] == "违规转售"


def test_applications_are_listed_per_organisation_and_per_department(bank: DataBank) -> None:
    market = set_up_market(bank)
    member, org = member_with_organisation(bank)
    application = bank.access_applications.submit_application(
        org, market.assets["conditional"], purpose="研究", scenario="科研", security_commitment="不外传",
        by=member)
    bank.access_applications.approve_application(str(application.id), scope="研究",
                                         period_end=date(2026, 12, 31), by=market.publisher)
    bank.entitlements_follower.catch_up()
    view = bank.entitlements_view
    (doc,) = view.access_applications(organisation_id=org)
    assert (doc["status"], doc["deadline"], doc["decided_by"]) == ("approved", "2026-03-09",
                                                                    market.publisher.name)
    assert view.access_applications(department_id=market.publisher.department_id) == [doc]
    assert view.access_applications(department_id="another") == []


def test_memberships_follow_invitations_and_removals(bank: DataBank) -> None:
    owner, org = member_with_organisation(bank)
    wang = bank.members.sign_up(email="wang@startup.example", name="王芳", password="luan-demo-2026")
    bank.organisations.invite(org, email="wang@startup.example", by=owner)
    bank.organisations.accept_invitation(org, by=wang.actor())
    bank.entitlements_follower.catch_up()
    assert [o["id"] for o in bank.entitlements_view.organisations_of(str(wang.id))] == [org]
    bank.organisations.remove_member(org, user_id=str(wang.id), by=owner)
    bank.entitlements_follower.catch_up()
    assert bank.entitlements_view.organisations_of(str(wang.id)) == []
    assert set(bank.entitlements_view.organisation(org)["members"]) == {owner.user_id}


def test_a_rebuilt_view_equals_the_one_built_as_events_came(bank: DataBank) -> None:
    market = set_up_market(bank)
    member, org = member_with_organisation(bank)
    bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1, by=member)
    bank.entitlements_follower.catch_up()
    view = bank.entitlements_view
    before = (view.subscriptions_of(org), view.licence_templates(), view.position())
    assert before[2] == bank.market.recorder.max_notification_id()
    bank.entitlements_follower.rebuild()
    assert (view.subscriptions_of(org), view.licence_templates(), view.position()) == before
