"""Billing over GraphQL on the offline ledger: checkout, invoices, status, the portal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from marketplace.bootstrap import build_in_memory
from marketplace.web.app import create_app
from support.api import GraphQLTestClient
from support.billing import PaidSubscription, paid_subscription


@pytest.fixture
def world() -> Iterator[tuple[GraphQLTestClient, PaidSubscription]]:
    bank = build_in_memory()
    paid = paid_subscription(bank)
    client = GraphQLTestClient(TestClient(create_app(bank, start_followers=False)))
    client.login("li@startup.example")
    yield client, paid
    bank.close()


def test_checkout_on_the_offline_ledger_activates_and_shows_an_uncharged_invoice(world) -> None:
    client, paid = world
    started = client.data("StartCheckout", subscriptionId=paid.subscription_id)["startCheckout"]
    assert started["errors"] == [] and "offline=1" in started["url"]
    status = client.data("BillingStatus", subscriptionId=paid.subscription_id)["billingStatus"]
    assert (status["status"], status["gateway"], status["charged"]) == ("active", "offline", False)
    [invoice] = client.data("Invoices", organisationId=paid.organisation_id)["invoices"]
    assert invoice["amountFen"] == 9900 and invoice["charged"] is False
    assert invoice["status"] == "not charged"


def test_checking_out_twice_is_a_payload_error(world) -> None:
    client, paid = world
    client.data("StartCheckout", subscriptionId=paid.subscription_id)
    again = client.data("StartCheckout", subscriptionId=paid.subscription_id)["startCheckout"]
    assert again["url"] is None and again["errors"][0]["code"] == "INVALID_STATE"


def test_the_portal_opens_for_a_member_of_the_organisation(world) -> None:
    client, paid = world
    opened = client.data("OpenBillingPortal", organisationId=paid.organisation_id)["openBillingPortal"]
    assert opened["errors"] == [] and opened["url"]


def test_invoices_need_a_signed_in_member(world) -> None:
    client, paid = world
    client.token = None
    body = client.call("Invoices", organisationId=paid.organisation_id)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
