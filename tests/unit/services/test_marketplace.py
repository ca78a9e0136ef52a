"""The market's use cases (services.market) on an in-memory bank: accounts, organisations,
licences, plans, subscriptions, conditional access and API keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from domain.actors import Actor, Role
from domain.api_key import hash_secret, parse_api_key
from domain.errors import (
    AlreadyExistsError,
    ApplicationRequiredError,
    InvalidInputError,
    InvalidStateError,
    NotConditionalError,
    NotFoundError,
    NotOpenError,
    NotPermittedError,
    OutdatedTermsError,
)
from marketplace.bootstrap import DataBank, build_in_memory
from support.marketplace import (
    ADMIN,
    PASSWORD,
    Clock,
    Market,
    credit_code,
    member_with_organisation,
    set_up_market,
)


@pytest.fixture
def bank() -> Iterator[DataBank]:
    built = build_in_memory()
    built.market.clock = Clock()
    yield built
    built.close()


@pytest.fixture
def market(bank: DataBank) -> Market:
    return set_up_market(bank)


def _apply(bank: DataBank, member: Actor, org: str, market: Market):
    return bank.access_applications.submit_application(
        org, market.assets["conditional"], purpose="研究公交出行规律", scenario="高校科研",
        security_commitment="不对外提供，用后删除", by=member)


# ---- accounts ---------------------------------------------------------------------------

def test_a_member_signs_up_and_logs_in_with_the_email_in_any_case(bank: DataBank) -> None:
    account = bank.members.sign_up(email="Li@Startup.Example", name="李明", password=PASSWORD)
    assert account.email == "li@startup.example"
    assert bank.members.authenticate_member("LI@startup.example", PASSWORD).id == account.id
    assert bank.members.authenticate_member("li@startup.example", "wrong-password") is None
    assert bank.members.authenticate_member("nobody@startup.example", PASSWORD) is None


def test_signing_up_twice_with_one_address_is_refused(bank: DataBank) -> None:
    bank.members.sign_up(email="li@startup.example", name="李明", password=PASSWORD)
    with pytest.raises(AlreadyExistsError, match="li@startup.example"):
        bank.members.sign_up(email="LI@startup.example", name="李明", password=PASSWORD)


def test_a_weak_password_is_refused_at_sign_up(bank: DataBank) -> None:
    with pytest.raises(InvalidInputError) as refused:
        bank.members.sign_up(email="li@startup.example", name="李明", password="12345678")
    assert refused.value.field == "password"


# ---- organisations ----------------------------------------------------------------------

def test_registering_an_organisation_makes_the_member_its_owner_and_current(bank: DataBank) -> None:
    member, org = member_with_organisation(bank)
    organisation = bank.organisations.get_organisation(org)
    assert organisation.members[member.user_id]["role"] == "owner"
    assert member.organisation_id == org


def test_an_invalid_credit_code_is_refused_naming_the_problem(bank: DataBank) -> None:
    account = bank.members.sign_up(email="li@startup.example", name="李明", password=PASSWORD)
    with pytest.raises(InvalidInputError) as refused:
        bank.organisations.register_organisation(credit_code="91320621MA1MRHG207", name="坏代码公司",
                                               by=account.actor())
    assert refused.value.code == "INVALID_CREDIT_CODE"
    assert "91320621MA1MRHG207" in refused.value.message and "check" in refused.value.message


def test_a_credit_code_registers_one_organisation_only(bank: DataBank) -> None:
    member_with_organisation(bank, "a@startup.example", n=7)
    with pytest.raises(AlreadyExistsError):
        member_with_organisation(bank, "b@startup.example", n=7)


def test_an_invited_member_joins_by_accepting(bank: DataBank) -> None:
    owner, org = member_with_organisation(bank)
    bank.organisations.invite(org, email="Wang@Startup.Example", by=owner)
    wang = bank.members.sign_up(email="wang@startup.example", name="王芳", password=PASSWORD)
    bank.organisations.accept_invitation(org, by=wang.actor())
    assert bank.organisations.get_organisation(org).role_of(str(wang.id)).value == "member"
    assert bank.members.get_member(str(wang.id)).current_organisation_id == org


def test_an_owner_adds_a_member_who_has_an_account(bank: DataBank) -> None:
    owner, org = member_with_organisation(bank)
    with pytest.raises(NotFoundError):
        bank.organisations.add_member(org, email="zhao@startup.example", by=owner)
    zhao = bank.members.sign_up(email="zhao@startup.example", name="赵强", password=PASSWORD)
    bank.organisations.add_member(org, email="zhao@startup.example", by=owner)
    assert bank.members.get_member(str(zhao.id)).organisation_ids == [org]


# ---- licences and plans ------------------------------------------------------------------

def test_a_plan_is_defined_only_for_a_published_asset(bank: DataBank, market: Market) -> None:
    with pytest.raises(NotFoundError):
        bank.licensing.define_plan(asset_id="00000000-0000-0000-0000-000000000000", name="x",
                                     licence_template_id=market.templates["open"], price={},
                                     quotas={}, overage="block", field_tier="masked", by=ADMIN)


def test_a_plan_name_is_unique_per_asset(bank: DataBank, market: Market) -> None:
    with pytest.raises(AlreadyExistsError):
        bank.licensing.define_plan(asset_id=market.assets["unconditional"], name="免费版",
                                     licence_template_id=market.templates["open"], price={},
                                     quotas={}, overage="block", field_tier="masked", by=ADMIN)


# ---- subscriptions -----------------------------------------------------------------------

def test_a_free_plan_starts_at_once_with_the_current_terms(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    sub = bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                     by=member)
    assert (sub.status, sub.terms_version) == ("active", 1)


def test_accepting_an_outdated_terms_version_is_refused(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    bank.licensing.publish_terms(market.templates["open"], text="第2版条款", summary="摘要",
                                   by=ADMIN)
    with pytest.raises(OutdatedTermsError, match="version 2"):
        bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                   by=member)
    sub = bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=2,
                                     by=member)
    assert sub.terms_version == 2


def test_subscribing_twice_is_refused(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1, by=member)
    with pytest.raises(AlreadyExistsError, match=r"already subscribes to this plan \(active\)"):
        bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                   by=member)


def test_only_members_subscribe_for_their_organisation(bank: DataBank, market: Market) -> None:
    _, org = member_with_organisation(bank)
    stranger, _ = member_with_organisation(bank, "x@other.example", n=8)
    with pytest.raises(NotFoundError, match="^no such organisation$"):  # as if there were none
        bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                   by=stranger)


def test_a_not_open_asset_cannot_be_subscribed(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    with pytest.raises(NotOpenError):
        bank.subscriptions.subscribe(org, market.plans["not_open"], accepted_terms_version=1, by=member)


def test_a_conditional_asset_needs_an_approved_application(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    with pytest.raises(ApplicationRequiredError):
        bank.subscriptions.subscribe(org, market.plans["conditional"], accepted_terms_version=1,
                                   by=member)
    application = _apply(bank, member, org, market)
    with pytest.raises(ApplicationRequiredError, match="submitted"):
        bank.subscriptions.subscribe(org, market.plans["conditional"], accepted_terms_version=1,
                                   application_id=str(application.id), by=member)
    bank.access_applications.approve_application(str(application.id), scope="公交出行研究",
                                         period_end=date(2026, 12, 31), by=market.publisher)
    sub = bank.subscriptions.subscribe(org, market.plans["conditional"], accepted_terms_version=1,
                                     application_id=str(application.id), by=member)
    assert sub.application_id == str(application.id)


def test_the_provider_revokes_a_subscription_and_it_stays_revoked(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    sub = bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                     by=member)
    other = Actor("pub2", "别的部门", Role.PUBLISHER, "another-department")
    with pytest.raises(NotPermittedError):
        bank.subscriptions.revoke_subscription(str(sub.id), reason="违规转售", by=other)
    revoked = bank.subscriptions.revoke_subscription(str(sub.id), reason="违规转售", by=market.publisher)
    assert (revoked.status, revoked.reason) == ("revoked", "违规转售")
    with pytest.raises(AlreadyExistsError, match=r"\(revoked\)"):
        bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                   by=member)


def test_billing_suspends_and_reinstates_a_subscription(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    sub = bank.subscriptions.subscribe(org, market.plans["unconditional"], accepted_terms_version=1,
                                     by=member)
    assert bank.subscriptions.suspend_subscription(str(sub.id), reason="欠费").status == "suspended"
    assert bank.subscriptions.reinstate_subscription(str(sub.id), reference="pay_1").status == "active"


# ---- access applications -----------------------------------------------------------------

def test_an_application_to_an_unconditional_asset_is_refused(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    with pytest.raises(NotConditionalError):
        bank.access_applications.submit_application(org, market.assets["unconditional"], purpose="p",
                                            scenario="s", security_commitment="c", by=member)


def test_the_deadline_counts_the_configured_working_days(market: Market) -> None:
    bank = build_in_memory()
    try:
        bank.market.clock = Clock()
        bank.access_applications.review_days = 10
        local = set_up_market(bank)
        member, org = member_with_organisation(bank)
        application = _apply(bank, member, org, local)
        assert application.deadline == "2026-03-16"  # Monday + 10 working days
    finally:
        bank.close()


def test_a_rejection_gives_reasons(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    application = _apply(bank, member, org, market)
    rejected = bank.access_applications.reject_application(str(application.id), reasons=["用途不明确"],
                                                   by=market.publisher)
    assert (rejected.status, rejected.reasons) == ("rejected", ["用途不明确"])


def test_overdue_applications_are_escalated_to_the_admin_once(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    application = _apply(bank, member, org, market)
    on_deadline = bank.market.clock.now + timedelta(days=7)  # Monday 9 March, the deadline
    assert bank.access_applications.escalate_overdue(on_deadline) == []
    with pytest.raises(NotPermittedError):
        bank.access_applications.approve_application(str(application.id), scope="s",
                                             period_end=date(2026, 12, 31), by=ADMIN)
    after = on_deadline + timedelta(days=1)
    assert bank.access_applications.escalate_overdue(after) == [str(application.id)]
    assert bank.access_applications.escalate_overdue(after) == []
    approved = bank.access_applications.approve_application(str(application.id), scope="s",
                                                    period_end=date(2026, 12, 31), by=ADMIN)
    assert approved.status == "approved"


# ---- API keys ----------------------------------------------------------------------------

def test_an_api_key_is_shown_once_and_stored_as_a_hash(bank: DataBank) -> None:
    member, org = member_with_organisation(bank)
    key, plaintext = bank.api_keys.create_api_key(org, name="nightly ETL", scopes=["rows:read"],
                                                     by=member)
    prefix, secret = parse_api_key(plaintext)
    assert key.prefix == prefix and key.secret_hash == hash_secret(secret)
    assert plaintext not in repr(key.__dict__)
    revoked = bank.api_keys.revoke_api_key(str(key.id), by=member)
    assert revoked.revoked


def test_a_key_is_issued_only_to_members_of_the_organisation(bank: DataBank) -> None:
    _, org = member_with_organisation(bank)
    stranger, _ = member_with_organisation(bank, "x@other.example", n=8)
    with pytest.raises(NotFoundError, match="^no such organisation$"):  # as if there were none
        bank.api_keys.create_api_key(org, name="k", scopes=["rows:read"], by=stranger)


def test_a_decided_application_cannot_be_decided_again(bank: DataBank, market: Market) -> None:
    member, org = member_with_organisation(bank)
    application = _apply(bank, member, org, market)
    bank.access_applications.reject_application(str(application.id), reasons=["不符合"], by=market.publisher)
    with pytest.raises(InvalidStateError):
        bank.access_applications.approve_application(str(application.id), scope="s",
                                             period_end=date(2026, 12, 31), by=market.publisher)


def test_an_unknown_credit_code_check_character_is_named(bank: DataBank) -> None:
    account = bank.members.sign_up(email="li@startup.example", name="李明", password=PASSWORD)
    good = credit_code(5)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidInputError, match=bad):
        bank.organisations.register_organisation(credit_code=bad, name="公司", by=account.actor())
