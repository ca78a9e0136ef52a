"""Another organisation's things answer exactly as missing things do: the same code, the same
message, byte for byte, never naming the organisation. Their ids are uuid5 of public facts (credit
codes), so "not yours" apart from "not there" would tell a stranger what exists, and whose it is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from domain.errors import DomainError
from marketplace.bootstrap import build_in_memory
from marketplace.web.app import create_app
from support.api import operation
from support.billing import paid_subscription
from support.marketplace import member_with_organisation

NOWHERE = str(uuid.uuid5(uuid.NAMESPACE_URL, "nothing here"))


@pytest.fixture
def world() -> Iterator[dict]:
    bank = build_in_memory()
    paid = paid_subscription(bank)  # 李明's startup 六安数智科技7
    stranger, stranger_org = member_with_organisation(bank, "x@other.example", n=8)
    http = TestClient(create_app(bank, start_followers=False))
    login = http.post("/graphql", json={"query": operation("Login"), "variables": {
        "username": "x@other.example", "password": "luan-demo-2026"}}).json()
    token = login["data"]["login"]["token"]
    yield {"bank": bank, "paid": paid, "stranger": stranger, "stranger_org": stranger_org,
           "http": http, "headers": {"Authorization": f"Bearer {token}"}}
    bank.close()


def answer(world: dict, name: str, **variables: str) -> bytes:
    # One request id for every probe: the server echoes the caller's id, so the two answers
    # compare byte for byte (a fresh random id per request would tell nothing either way).
    response = world["http"].post("/graphql", json={"query": operation(name), "variables": variables},
                                  headers={**world["headers"], "X-Request-Id": "probe"})
    return response.content


@pytest.mark.parametrize("name, argument, whose", [
    ("BillingStatus", "subscriptionId", "subscription_id"),
    ("StartCheckout", "subscriptionId", "subscription_id"),
    ("OpenBillingPortal", "organisationId", "organisation_id"),
    ("Invoices", "organisationId", "organisation_id"),
])
def test_another_organisations_billing_answers_as_a_missing_one(world, name, argument, whose) -> None:
    theirs = answer(world, name, **{argument: getattr(world["paid"], whose)})
    missing = answer(world, name, **{argument: NOWHERE})
    assert theirs == missing
    assert "六安数智科技7".encode() not in theirs and b"not a member" not in theirs
    assert b"no such" in theirs


def refusal(command) -> tuple[str, str, str | None, str]:
    with pytest.raises(DomainError) as info:
        command()
    error = info.value
    return type(error).__name__, error.message, error.field, error.code


def test_marketplace_commands_on_another_organisation_answer_as_on_a_missing_one(world) -> None:
    bank, stranger, theirs = world["bank"], world["stranger"], world["paid"].organisation_id
    commands = {
        "subscribe": lambda org: bank.subscriptions.subscribe(org, NOWHERE, accepted_terms_version=1, by=stranger),
        "create_api_key": lambda org: bank.api_keys.create_api_key(org, name="k", scopes=["rows:read"], by=stranger),
        "submit_application": lambda org: bank.access_applications.submit_application(
            org, NOWHERE, purpose="p", scenario="s", security_commitment="c", by=stranger),
        "invite": lambda org: bank.organisations.invite(org, email="y@other.example", by=stranger),
        "remove_member": lambda org: bank.organisations.remove_member(org, user_id=stranger.user_id, by=stranger),
        "accept_invitation": lambda org: bank.organisations.accept_invitation(org, by=stranger),
    }
    for name, command in commands.items():
        not_yours, not_there = refusal(lambda: command(theirs)), refusal(lambda: command(NOWHERE))
        assert not_yours == not_there, name
        assert not_yours[3] == "NOT_FOUND" and "六安数智科技7" not in not_yours[1], name


def test_another_organisations_api_key_is_revoked_as_a_missing_one(world) -> None:
    bank, paid, stranger = world["bank"], world["paid"], world["stranger"]
    key = bank.api_keys.create_api_key(paid.organisation_id, name="k", scopes=["rows:read"],
                                          by=paid.member)
    key_id = str(key[0].id)
    not_yours = refusal(lambda: bank.api_keys.revoke_api_key(key_id, by=stranger))
    not_there = refusal(lambda: bank.api_keys.revoke_api_key(NOWHERE, by=stranger))
    assert not_yours == not_there == ("NotFoundError", "no such API key", "key_id", "NOT_FOUND")
