"""The marketplace through /graphql in process: the documented operations as clients send them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from marketplace.bootstrap import build_in_memory
from marketplace.web.app import create_app
from support.api import GraphQLTestClient
from support.marketplace import ADMIN, PASSWORD, Clock, Market, credit_code, set_up_market


@pytest.fixture
def world() -> Iterator[tuple[GraphQLTestClient, Market]]:
    bank = build_in_memory()
    bank.market.clock = Clock()
    market = set_up_market(bank)
    bank.staff.open_account(username="admin", name="管理员", role=ADMIN.role, password=PASSWORD, by=None)
    with TestClient(create_app(bank)) as http:
        yield GraphQLTestClient(http), market


def _member(api: GraphQLTestClient) -> str:
    """Sign up, register a startup, log in again acting for it; returns the organisation id."""
    signed = api.data("SignUp", email="li@startup.example", name="李明", password=PASSWORD)["signUp"]
    api.token = signed["token"]
    org = api.data("RegisterOrganisation", creditCode=credit_code(7), name="六安数智科技")
    api.login("li@startup.example")
    return org["registerOrganisation"]["organisation"]["id"]


def test_a_member_logs_in_with_the_email_and_acts_for_their_organisation(world) -> None:
    api, _ = world
    org = _member(api)
    viewer = api.data("Viewer")["viewer"]
    assert (viewer["role"], viewer["organisationId"]) == ("MEMBER", org)
    (mine,) = api.data("MyOrganisations")["myOrganisations"]
    assert mine["members"][0]["role"] == "OWNER" and mine["creditCode"] == credit_code(7)


def test_an_invalid_credit_code_is_a_payload_error_naming_the_field(world) -> None:
    api, _ = world
    api.token = api.data("SignUp", email="li@startup.example", name="李明",
                         password=PASSWORD)["signUp"]["token"]
    payload = api.data("RegisterOrganisation", creditCode="91320621MA1MRHG207",
                       name="坏代码公司")["registerOrganisation"]
    assert payload["organisation"] is None
    (error,) = payload["errors"]
    assert (error["code"], error["field"]) == ("INVALID_CREDIT_CODE", "creditCode")


def test_subscribing_to_a_free_plan_then_again(world) -> None:
    api, market = world
    _member(api)
    (plan,) = api.data("Plans", assetId=market.assets["unconditional"])["plans"]
    assert plan["free"] and plan["licenceTemplate"]["currentVersion"] == 1
    first = api.data("Subscribe", planId=plan["id"], acceptedTermsVersion=1)["subscribe"]
    assert (first["errors"], first["subscription"]["status"]) == ([], "ACTIVE")
    again = api.data("Subscribe", planId=plan["id"], acceptedTermsVersion=1)["subscribe"]
    assert [e["code"] for e in again["errors"]] == ["ALREADY_EXISTS"]
    listed = api.data("Subscriptions")["subscriptions"]
    assert [(s["asset"]["name"], s["status"]) for s in listed] == [("公交站点", "ACTIVE")]


def test_an_outdated_terms_version_is_refused_with_its_code(world) -> None:
    api, market = world
    api.login("admin")
    published = api.data("PublishLicenceTerms", templateId=market.templates["open"], text="第2版",
                         summary="新摘要")["publishLicenceTerms"]
    assert published["licenceTemplate"]["currentVersion"] == 2
    _member(api)
    refused = api.data("Subscribe", planId=market.plans["unconditional"],
                       acceptedTermsVersion=1)["subscribe"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("OUTDATED_TERMS",
                                                                     "acceptedTermsVersion")]


def test_an_application_to_an_unconditional_asset_is_refused(world) -> None:
    api, market = world
    _member(api)
    refused = api.data("SubmitAccessApplication", assetId=market.assets["unconditional"],
                       purpose="p", scenario="s", securityCommitment="c")["submitAccessApplication"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_CONDITIONAL"]


def test_an_api_key_is_shown_once_and_listed_by_prefix(world) -> None:
    api, _ = world
    _member(api)
    created = api.data("CreateApiKey", name="nightly ETL", scopes=["rows:read"])["createApiKey"]
    plaintext = created["plaintext"]
    assert plaintext.startswith("dbk_") and len(plaintext) == 44
    (listed,) = api.data("ApiKeys")["apiKeys"]
    assert listed["prefix"] == plaintext[4:12] and listed["display"] == plaintext[:12] + "…"
    assert plaintext not in str(listed)
    revoked = api.data("RevokeApiKey", keyId=listed["id"])["revokeApiKey"]
    assert revoked["apiKey"]["revoked"] is True


def test_subscribing_needs_a_member_login(world) -> None:
    api, market = world
    body = api.call("Subscribe", planId=market.plans["unconditional"], acceptedTermsVersion=1)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_admin_defines_a_paid_plan(world) -> None:
    api, market = world
    api.login("admin")
    payload = api.data("DefinePlan", assetId=market.assets["unconditional"], name="商业版",
                       licenceTemplateId=market.templates["commercial"],
                       price={"monthlyFeeFen": 9900, "per1kRowsFen": 50},
                       quotas={"rowsPerMonth": 1_000_000, "rateLimitPerMinute": 600},
                       overage="BILL", fieldTier="MASKED",
                       itemOverrides={"站点名称": "FULL"})["definePlan"]
    assert payload["errors"] == []
    plan = payload["plan"]
    assert (plan["free"], plan["price"]["per1kRowsFen"], plan["itemOverrides"]) == (
        False, 50, {"站点名称": "full"})
