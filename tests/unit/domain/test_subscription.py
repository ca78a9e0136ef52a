"""Subscriptions: accepted terms, conditional access, payment states, revocation, entitlements."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from eventsourcing.application import Application

from domain.actors import Actor, Role
from domain.errors import (
    ApplicationRequiredError,
    InvalidInputError,
    InvalidStateError,
    NotOpenError,
    NotPermittedError,
    OutdatedTermsError,
    PlanRetiredError,
)
from domain.licensing import Plan
from domain.subscription import Subscription

MEMBER = Actor("u1", "陈创", Role.MEMBER)
ADMIN = Actor("a1", "管理员", Role.ADMIN)
PROVIDER = Actor("p1", "王芳", Role.PUBLISHER, "dept-health")
OTHER_PUBLISHER = Actor("p2", "李强", Role.PUBLISHER, "dept-transport")
ORG = "org-1"
AT = datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=8)))


def _plan(**overrides) -> Plan:
    values = {"asset_id": "asset-1", "name": "标准版", "licence_template_id": "tpl-1",
              "price": {"monthly_fee_fen": 9900, "per_1k_rows_fen": 50},
              "quotas": {"rows_per_month": 100_000, "calls_per_month": 10_000, "rate_limit_per_minute": 60},
              "overage": "block", "field_tier": "masked", "item_overrides": {"身份证号": "dropped"},
              "by": ADMIN}
    return Plan.define(**{**values, **overrides})


FREE = {"price": {}, "name": "免费版"}


def _start(of: Plan | None = None, **overrides) -> Subscription:
    values = {"organisation_id": ORG, "plan": (of or _plan()).record(), "template_current_version": 2,
              "accepted_terms_version": 2, "asset_open_type": "unconditional",
              "approved_application_id": None, "by": MEMBER}
    return Subscription.start(**{**values, **overrides})


def test_the_id_is_natural_so_subscribing_twice_to_a_plan_collides() -> None:
    plan = _plan()
    assert _start(plan).id == _start(plan).id == Subscription.create_id(ORG, str(plan.id))
    assert Subscription.create_id("org-2", str(plan.id)) != Subscription.create_id(ORG, str(plan.id))


def test_a_free_plan_starts_active_and_a_paid_plan_waits_for_payment() -> None:
    assert _start(_plan(**FREE)).status == "active"
    assert _start().status == "pending_payment"


def test_accepting_outdated_terms_is_refused() -> None:
    with pytest.raises(OutdatedTermsError) as caught:
        _start(accepted_terms_version=1)
    assert (caught.value.code, caught.value.field) == ("OUTDATED_TERMS", "accepted_terms_version")


def test_a_conditionally_open_asset_needs_an_approved_application() -> None:
    with pytest.raises(ApplicationRequiredError):
        _start(asset_open_type="conditional")
    subscription = _start(asset_open_type="conditional", approved_application_id="app-7")
    assert subscription.application_id == "app-7"


def test_an_asset_that_is_not_open_cannot_be_subscribed() -> None:
    with pytest.raises(NotOpenError):
        _start(asset_open_type="not_open")


def test_a_retired_plan_takes_no_new_subscriptions() -> None:
    plan = _plan()
    plan.retire(reason="停售", by=ADMIN)
    with pytest.raises(PlanRetiredError):
        _start(plan)


def test_only_members_subscribe() -> None:
    with pytest.raises(NotPermittedError):
        _start(by=ADMIN)


def test_the_subscriber_keeps_the_plan_values_and_terms_as_they_were() -> None:
    plan = _plan()
    record = plan.record()
    subscription = _start(plan=record)
    record["quotas"]["rows_per_month"] = 1
    plan.retire(reason="涨价", by=ADMIN)
    assert subscription.plan["quotas"]["rows_per_month"] == 100_000
    assert "retired" not in subscription.plan and subscription.terms_version == 2


def test_payment_activates_and_repeated_webhooks_change_nothing() -> None:
    subscription = _start()
    assert not subscription.entitlement().ok
    subscription.activate("in_123")
    subscription.activate("in_123")
    assert (subscription.status, subscription.payment_reference) == ("active", "in_123")
    assert [type(e).__name__ for e in subscription.collect_events()] == ["Started", "Activated"]


def test_unpaid_suspends_with_a_reason_and_payment_reinstates() -> None:
    subscription = _start(_plan(**FREE))
    with pytest.raises(InvalidInputError):
        subscription.suspend("")
    subscription.suspend("发票逾期未付")
    assert (subscription.status, subscription.reason) == ("suspended", "发票逾期未付")
    assert not subscription.entitlement().ok
    subscription.reinstate("in_456")
    assert (subscription.status, subscription.reason) == ("active", None)


def test_a_pending_subscription_cannot_be_suspended_or_reinstated() -> None:
    subscription = _start()
    with pytest.raises(InvalidStateError):
        subscription.suspend("unpaid")
    with pytest.raises(InvalidStateError):
        subscription.reinstate()


def test_revocation_is_final_and_cuts_access_at_once() -> None:
    subscription = _start(_plan(**FREE))
    subscription.revoke(reason="违规转售数据", by=PROVIDER, provider_department_id="dept-health")
    assert not subscription.entitlement().ok
    for command in (lambda: subscription.activate("x"), lambda: subscription.reinstate(),
                    lambda: subscription.expire(AT),
                    lambda: subscription.revoke(reason="again", by=ADMIN)):
        with pytest.raises(InvalidStateError):
            command()
    assert subscription.status == "revoked"


def test_only_an_administrator_or_the_providing_department_revokes_and_with_a_reason() -> None:
    subscription = _start(_plan(**FREE))
    for actor in (MEMBER, OTHER_PUBLISHER):
        with pytest.raises(NotPermittedError):
            subscription.revoke(reason="x", by=actor, provider_department_id="dept-health")
    with pytest.raises(InvalidInputError):
        subscription.revoke(reason=" ", by=ADMIN)
    subscription.revoke(reason="违约", by=ADMIN)
    assert subscription.status == "revoked"


def test_an_expired_subscription_records_when_and_is_renewed_under_current_terms() -> None:
    plan = _plan(**FREE)
    subscription = _start(plan)
    subscription.expire(AT)
    assert (subscription.status, subscription.expires_at) == ("expired", AT)
    with pytest.raises(OutdatedTermsError):
        subscription.renew(plan=plan.record(), template_current_version=3, accepted_terms_version=2,
                           asset_open_type="unconditional", by=MEMBER)
    subscription.renew(plan=plan.record(), template_current_version=3, accepted_terms_version=3,
                       asset_open_type="unconditional", by=MEMBER)
    assert (subscription.status, subscription.terms_version, subscription.expires_at) == ("active", 3, None)


def test_only_an_expired_subscription_is_renewed_and_only_on_its_own_plan() -> None:
    plan = _plan(**FREE)
    subscription = _start(plan)
    with pytest.raises(InvalidStateError):
        subscription.renew(plan=plan.record(), template_current_version=2, accepted_terms_version=2,
                           asset_open_type="unconditional", by=MEMBER)
    subscription.expire(AT)
    with pytest.raises(InvalidInputError):
        subscription.renew(plan=_plan(name="另一个").record(), template_current_version=2,
                           accepted_terms_version=2, asset_open_type="unconditional", by=MEMBER)


def test_the_entitlement_carries_tier_overrides_quotas_and_overage() -> None:
    subscription = _start(_plan(**FREE))
    entitlement = subscription.entitlement()
    assert entitlement.ok and entitlement.asset_id == "asset-1"
    assert (entitlement.rows_per_month, entitlement.calls_per_month, entitlement.rate_limit_per_minute,
            entitlement.overage) == (100_000, 10_000, 60, "block")
    assert (entitlement.item_mode("身份证号"), entitlement.item_mode("姓名")) == ("dropped", "masked")
    with pytest.raises(AttributeError):
        entitlement.status = "revoked"  # type: ignore[misc]


def test_a_subscription_round_trips_through_the_event_store_to_the_same_state() -> None:
    subscription = _start()
    subscription.activate("in_1")
    subscription.suspend("unpaid")
    subscription.expire(AT)
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(subscription)
    loaded = app.repository.get(subscription.id)
    assert vars(loaded) == vars(subscription)
    assert loaded.entitlement() == subscription.entitlement()
