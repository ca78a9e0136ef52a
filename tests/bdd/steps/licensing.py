"""Licensing steps (features/licensing/): licences, plans, organisations, subscriptions and
conditional access applications."""

from __future__ import annotations

from typing import Any

from bdd.steps.core import PASSWORD, ROOT_ADMIN, as_user, market_of, payload_of
from pytest_bdd import given, parsers, then, when

from domain.actors import Actor, Role


@given(parsers.parse('the "{kind}" licence "{name}"'))
def licence(world: dict, kind: str, name: str) -> None:
    """Creates a licence template of that kind with terms version 1."""
    template = world["bank"].licensing.create_licence_template(
        key=f"licence-{len(market_of(world)['licences']) + 1}", name=name, kind=kind,
        text=f"{name}条款（第1版）", summary=f"{name}摘要", by=ROOT_ADMIN)
    market_of(world)["licences"][name] = str(template.id)


@given(parsers.re(r'the (?P<open_type>unconditional|conditional|not_open) asset "(?P<asset>[^"]+)" of '
                  r'"(?P<department>[^"]+)" offered as "(?P<plan>[^"]+)" under "(?P<licence>[^"]+)"$'))
def offered_asset(world: dict, open_type: str, asset: str, department: str, plan: str,
                  licence: str) -> None:
    """Publishes an asset of that open type (reviewed and approved) and defines a free plan on it
    (10,000 rows a month, masked)."""
    from support.marketplace import publish_asset

    market = market_of(world)
    publisher = Actor("pub", f"{department}数据专员", Role.PUBLISHER, world["departments"][department])
    asset_id = publish_asset(world["bank"], publisher, open_type, asset)
    defined = world["bank"].licensing.define_plan(
        asset_id=asset_id, name=plan, licence_template_id=market["licences"][licence], price={},
        quotas={"rows_per_month": 10_000}, overage="block", field_tier="masked", by=ROOT_ADMIN)
    market["assets"][asset] = asset_id
    market["plans"][plan] = str(defined.id)
    world["bank"].catalogue_follower.catch_up()


@given(parsers.parse('the member "{email}" of the startup "{organisation}"'))
def member_of_startup(world: dict, email: str, organisation: str) -> None:
    """Signs a member up who registers the startup (a generated valid credit code) and owns it."""
    from support.marketplace import credit_code

    market = market_of(world)
    account = world["bank"].members.sign_up(email=email, name="李明", password=PASSWORD)
    registered = world["bank"].organisations.register_organisation(
        credit_code=credit_code(len(market["organisations"]) + 11), name=organisation,
        kind="startup", by=account.actor())
    market["organisations"][organisation] = str(registered.id)


@given(parsers.parse('the administrator published new terms of "{licence}"'))
def new_terms(world: dict, licence: str) -> None:
    world["bank"].licensing.publish_terms(market_of(world)["licences"][licence], text="条款（第2版）",
                                            summary="第2版摘要", by=ROOT_ADMIN)


def _subscribe(world: dict, plan: str, version: int, with_application: bool) -> None:
    variables: dict[str, Any] = {"planId": market_of(world)["plans"][plan],
                                 "acceptedTermsVersion": version}
    if with_application:
        variables["applicationId"] = world["application_id"]
    world["answer"] = world["api"].call("Subscribe", **variables)
    subscription = payload_of(world["answer"])["subscription"]
    if subscription:
        world["subscription"] = subscription


@when(parsers.re(r'(?:they|"(?P<username>[^"]+)") subscribes? to "(?P<plan>[^"]+)" accepting terms '
                 r'version (?P<version>\d+)(?P<application> with the application)?$'))
def subscribe(world: dict, plan: str, version: str, username: str | None = None,
              application: str | None = None) -> None:
    """Subscribes through the API as the logged-in member (or logs ``username`` in first)."""
    if username:
        as_user(world, username)
    _subscribe(world, plan, int(version), bool(application))


@given(parsers.parse('they subscribed to "{plan}" accepting terms version {version:d}'))
def subscribed(world: dict, plan: str, version: int) -> None:
    _subscribe(world, plan, version, False)
    assert payload_of(world["answer"])["errors"] == []


@when(parsers.parse('they register the organisation "{name}" with the credit code "{code}"'))
def register_organisation(world: dict, name: str, code: str) -> None:
    world["answer"] = world["api"].call("RegisterOrganisation", creditCode=code, name=name)


@when(parsers.parse('"{username}" revokes the subscription because "{reason}"'))
def revoke_subscription(world: dict, username: str, reason: str) -> None:
    world["answer"] = as_user(world, username).call(
        "RevokeSubscription", subscriptionId=world["subscription"]["id"], reason=reason)
    world["subscription"] = payload_of(world["answer"])["subscription"] or world["subscription"]


@when(parsers.parse('they apply for "{asset}" to "{purpose}"'))
@given(parsers.parse('they applied for "{asset}" to "{purpose}"'))
def apply_for_access(world: dict, asset: str, purpose: str) -> None:
    """Submits an access application through the API (scenario and commitment filled in)."""
    world["answer"] = world["api"].call(
        "SubmitAccessApplication", assetId=market_of(world)["assets"][asset], purpose=purpose,
        scenario="高校科研合作项目", securityCommitment="仅限项目组使用，不向第三方提供，期满删除")
    application = payload_of(world["answer"])["application"]
    if application:
        world["application_id"] = application["id"]


@when(parsers.parse('"{username}" approves the application until "{period_end}"'))
def approve_application(world: dict, username: str, period_end: str) -> None:
    world["answer"] = as_user(world, username).call(
        "ApproveAccessApplication", applicationId=world["application_id"], scope="人口流动研究",
        periodEnd=period_end)
    assert payload_of(world["answer"])["errors"] == []


@when(parsers.parse('"{username}" rejects the application because "{reason}"'))
def reject_application(world: dict, username: str, reason: str) -> None:
    world["answer"] = as_user(world, username).call(
        "RejectAccessApplication", applicationId=world["application_id"], reasons=[reason])


@when(parsers.parse("{days:d} working days pass without an answer"))
def working_days_pass(world: dict, days: int) -> None:
    """Moves the market's clock on and runs the periodic escalation, as the server does."""
    from datetime import datetime, time

    from domain.access_application import CHINA, add_working_days, china_date

    clock = world["bank"].market.clock
    clock.now = datetime.combine(add_working_days(china_date(clock.now), days), time(9), tzinfo=CHINA)
    assert world["bank"].access_applications.escalate_overdue() == [world["application_id"]]
    world["bank"].entitlements_follower.catch_up()  # the background follower would, within 50 ms


@then(parsers.parse('the subscription is "{status}" under terms version {version:d}'))
def subscription_is(world: dict, status: str, version: int) -> None:
    payload = payload_of(world["answer"])
    assert payload["errors"] == [], payload
    assert (payload["subscription"]["status"], payload["subscription"]["termsVersion"]) == (
        status, version)


@then(parsers.parse('the access path finds the subscription of "{organisation}" to "{asset}" "{status}"'))
def access_path_finds(world: dict, organisation: str, asset: str, status: str) -> None:
    """Asks the entitlements read model what the data-access path will ask."""
    bank, market = world["bank"], market_of(world)
    bank.entitlements_follower.catch_up()
    found = bank.entitlements_view.entitlement(market["organisations"][organisation],
                                               market["assets"][asset])
    assert found is not None and found.status == status
    assert found.ok is (status == "active")


@then(parsers.parse('"{username}" sees the subscription to "{asset}" as "{status}"'))
def sees_subscription(world: dict, username: str, asset: str, status: str) -> None:
    listed = as_user(world, username).data("Subscriptions")["subscriptions"]
    assert [(s["asset"]["name"], s["status"]) for s in listed] == [(asset, status)]


def _application_as(world: dict, username: str) -> dict:
    listed = as_user(world, username).data("AccessApplications")["applications"]
    (application,) = [a for a in listed if a["id"] == world["application_id"]]
    return application


@then(parsers.parse('"{username}" sees the application as "{status}" with the reason "{reason}"'))
def sees_application_with_reason(world: dict, username: str, status: str, reason: str) -> None:
    application = _application_as(world, username)
    assert (application["status"], application["reasons"]) == (status, [reason])


@then(parsers.parse('"{username}" sees the application as "{status}" and overdue'))
def sees_application_overdue(world: dict, username: str, status: str) -> None:
    application = _application_as(world, username)
    assert (application["status"], application["overdue"], application["escalated"]) == (
        status, True, True)


@then(parsers.parse('the application is "{status}"'))
def application_is(world: dict, status: str) -> None:
    payload = payload_of(world["answer"])
    assert payload["errors"] == [] and payload["application"]["status"] == status, payload
