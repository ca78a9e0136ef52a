"""The bank tells an organisation when its access changes (issue 4: a failed payment suspends and
notifies; issue 3: revocation and decided applications)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from marketplace.bootstrap import build_in_memory
from marketplace.web.app import create_app
from support.api import GraphQLTestClient
from support.marketplace import ADMIN, Clock, member_with_organisation, set_up_market


@pytest.fixture
def world() -> Iterator[tuple[GraphQLTestClient, object, str, str]]:
    bank = build_in_memory()
    bank.market.clock = Clock()
    market = set_up_market(bank)
    member, organisation = member_with_organisation(bank, email="li@startup.example", n=31)
    subscription = bank.subscriptions.subscribe(organisation, market.plans["unconditional"],
                                              accepted_terms_version=1, by=member)
    with TestClient(create_app(bank)) as http:
        api = GraphQLTestClient(http)
        api.login("li@startup.example")
        yield api, bank, organisation, str(subscription.id)


def _kinds(api: GraphQLTestClient) -> list[tuple[str, str | None]]:
    return [(n["kind"], n["reason"]) for n in api.data("Notifications")["notifications"]]


def test_a_suspension_and_the_reinstatement_are_notified_newest_first(world) -> None:
    api, bank, _, subscription = world
    bank.subscriptions.suspend_subscription(subscription, reason="发票逾期未付")
    bank.subscriptions.reinstate_subscription(subscription)
    bank.entitlements_follower.catch_up()
    assert _kinds(api) == [("SUBSCRIPTION_REINSTATED", None), ("SUBSCRIPTION_SUSPENDED", "发票逾期未付")]


def test_a_revocation_is_notified_with_its_reason(world) -> None:
    api, bank, _, subscription = world
    bank.subscriptions.revoke_subscription(subscription, reason="违规转让数据", by=ADMIN)
    bank.entitlements_follower.catch_up()
    assert _kinds(api) == [("SUBSCRIPTION_REVOKED", "违规转让数据")]


def test_another_organisation_sees_none_of_it(world) -> None:
    api, bank, _, subscription = world
    bank.subscriptions.suspend_subscription(subscription, reason="发票逾期未付")
    member_with_organisation(bank, email="wang@other.example", n=32)
    bank.entitlements_follower.catch_up()
    api.login("wang@other.example")
    assert _kinds(api) == []
