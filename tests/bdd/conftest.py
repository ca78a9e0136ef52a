"""The shared step library of the feature files (features/), in the users' words.

Given steps arrange the world through the use cases (as an administrator would have); When steps
act through the GraphQL API as a person's client does, with the documented operations; Then steps
look at what the API answers. State travels in the ``world`` dict.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when
from starlette.testclient import TestClient

from support.api import GraphQLTestClient, operation
from support.catalogue import sample_metadata
from domain.actors import Actor, Role
from domain.identifiers import org_code_check_char, uscc_check_char
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app

PASSWORD = "luan-demo-2026"
ROOT_ADMIN = Actor("bootstrap", "系统管理员", Role.ADMIN)
UPLOAD_LIMIT = 256 * 1024

BUS_STOPS = [("LA0001", "六安市政务中心", "116.5078", "31.7529"),
             ("LA0002", "皖西学院", "116.4862", "31.7760"),
             ("LA0003", "六安火车站", "116.5421", "31.7350")]


def _uscc(n: int) -> str:
    org = f"{n:08d}"
    head = "11341500" + org + org_code_check_char(org)
    return head + uscc_check_char(head)


def bus_stop_csv(encoding: str = "utf-8") -> bytes:
    lines = ["站点编号,站点名称,经度,纬度"] + [",".join(row) for row in BUS_STOPS]
    return ("\n".join(lines) + "\n").encode(encoding)


MALFORMED = {
    "a ragged row on line 3": "站点编号,站点名称,经度,纬度\nLA0001,政务中心,116.5,31.7\nLA0002,皖西学院,116.4\n",
    "undecodable bytes": None,  # built below: valid UTF-8 first, then a broken byte sequence
    "an empty file": "",
    "a bad number on line 4": ("站点编号,站点名称,经度,纬度\nLA0001,a,116.5,31.7\nLA0002,b,116.4,31.7\n"
                               "LA0003,c,东经116度,31.7\n"),
}


def malformed_file(name: str) -> bytes:
    if name == "undecodable bytes":
        head = bus_stop_csv() * 1
        # 70 KiB of valid UTF-8 rows, so the sniffed prefix decodes, then bytes that never do.
        body = "".join(f"LB{i:04d},站点{i},116.5,31.7\n" for i in range(3000)).encode()
        return head + body + b"LC0001,\xff\xfe\xfa,116.5,31.7\n"
    return MALFORMED[name].encode("utf-8")


@pytest.fixture
def world() -> Any:
    """Everything a scenario builds: the bank, the API client, names → ids, the last answer."""
    settings = Settings(max_upload_bytes=UPLOAD_LIMIT, projection_poll_seconds=0.05)
    bank = build_in_memory(settings)
    with TestClient(create_app(bank)) as http:
        yield {"bank": bank, "api": GraphQLTestClient(http), "departments": {}, "users": {},
               "asset_id": None, "answer": None}


def _as(world: dict, username: str) -> GraphQLTestClient:
    api: GraphQLTestClient = world["api"]
    api.login(username, PASSWORD)
    world["user"] = username
    return api


def _payload(body: dict) -> dict:
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    return payload


# ---- Given: the world as an administrator set it up --------------------------------------------

@given(parsers.parse('the department "{name}" with the publisher "{username}"'))
def department_with_publisher(world: dict, name: str, username: str) -> None:
    """Registers a department (a generated valid credit code) and its publisher account."""
    bank = world["bank"]
    department = bank.catalogue.register_department(
        code=_uscc(len(world["departments"]) + 1), name=name, contact="0564-0000000", by=ROOT_ADMIN)
    world["departments"][name] = str(department.id)
    bank.staff.open_account(username=username, name=f"{name}数据专员", role=Role.PUBLISHER,
                            password=PASSWORD, department_id=str(department.id), by=ROOT_ADMIN)


@given(parsers.re(r'the open-data reviewer "(?P<username>[^"]+)"( of "(?P<department>[^"]+)")?$'))
def reviewer(world: dict, username: str, department: str | None) -> None:
    """Opens a reviewer account, central (no department) or of the named department."""
    world["bank"].staff.open_account(
        username=username, name=f"审查员{username}", role=Role.REVIEWER, password=PASSWORD,
        department_id=world["departments"][department] if department else None, by=ROOT_ADMIN)


@given(parsers.parse('"{username}" is logged in'))
def logged_in(world: dict, username: str) -> None:
    _as(world, username)


# ---- When: people act through the API --------------------------------------------------------

@when(parsers.parse('they register the data asset "{name}" classified {c} {i} {g}'))
@given(parsers.parse('they registered the data asset "{name}" classified {c} {i} {g}'))
def register_asset(world: dict, name: str, c: str, i: str, g: str) -> None:
    metadata = _camel_metadata(sample_metadata(
        name=name, classification={"class_code": c, "item_code": i, "catalog_code": g, "detail_code": ""}))
    body = world["api"].call("RegisterAsset", metadata=metadata)
    world["answer"] = body
    if "errors" in body:  # e.g. an enum value the schema itself refuses
        return
    payload = _payload(body)
    if payload["asset"]:
        world["asset_id"] = payload["asset"]["id"]
        world["asset"] = payload["asset"]


@when("they register a conditionally open asset without a legal basis")
def register_conditional_without_basis(world: dict) -> None:
    metadata = _camel_metadata(sample_metadata(
        name="医疗机构名录", opening={"type": "conditional", "condition": "科研用途", "legal_basis": ""}))
    world["answer"] = world["api"].call("RegisterAsset", metadata=metadata)


@when(parsers.parse("they upload a {encoding} CSV with 3 bus stops"))
@given(parsers.parse("they uploaded a {encoding} CSV with 3 bus stops"))
def upload_bus_stops(world: dict, encoding: str) -> None:
    codec = {"UTF-8": "utf-8", "GB18030": "gb18030"}[encoding]
    response = world["api"].upload(world["asset_id"], bus_stop_csv(codec))
    world["answer"] = response.json()
    world["upload"] = _payload(world["answer"])


@when(parsers.parse('"{username}" uploads a UTF-8 CSV with 3 bus stops to it'))
def upload_as_someone_else(world: dict, username: str) -> None:
    api = _as(world, username)
    world["answer"] = api.upload(world["asset_id"], bus_stop_csv()).json()


@when(parsers.parse('they upload the file "{name}"'))
def upload_malformed(world: dict, name: str) -> None:
    world["answer"] = world["api"].upload(world["asset_id"], malformed_file(name)).json()


@when("they upload a file larger than the upload limit")
def upload_too_large(world: dict) -> None:
    big = bus_stop_csv() + b"LX0001,x,116.5,31.7\n" * (UPLOAD_LIMIT // 16)
    world["response"] = world["api"].upload(world["asset_id"], big)


@when(parsers.re(r'(?:they|"(?P<username>[^"]+)") submits? version (?P<number>\d+) for open review(?: again)?$'))
@given(parsers.parse("they submitted version {number:d} for open review"))
def submit(world: dict, number: int, username: str | None = None) -> None:
    api = _as(world, username) if username else world["api"]
    world["answer"] = api.call("SubmitForReview", assetId=world["asset_id"], version=int(number))


@when(parsers.parse('"{username}" approves it because "{reason}"'))
def approve(world: dict, username: str, reason: str) -> None:
    world["answer"] = _as(world, username).call("ApproveAsset", assetId=world["asset_id"], reason=reason)


@when(parsers.parse('"{username}" rejects it because "{reason}"'))
def reject(world: dict, username: str, reason: str) -> None:
    world["answer"] = _as(world, username).call("RejectAsset", assetId=world["asset_id"], reasons=[reason])


@when(parsers.re(r'(?:they|"(?P<username>[^"]+)") publish(?:es)? version (?P<number>\d+)$'))
def publish(world: dict, number: str, username: str | None = None) -> None:
    api = _as(world, username) if username else world["api"]
    world["answer"] = api.call("PublishAsset", assetId=world["asset_id"], version=int(number))


@when(parsers.parse('"{username}" withdraws it because "{reason}"'))
def withdraw(world: dict, username: str, reason: str) -> None:
    world["answer"] = _as(world, username).call("WithdrawAsset", assetId=world["asset_id"], reason=reason)


# ---- Then: what the API answers -------------------------------------------------------------

@then(parsers.parse('the asset has the resource code "{code}" and is a draft'))
def resource_code_and_draft(world: dict, code: str) -> None:
    assert world["asset"]["resourceCode"] == code
    assert world["asset"]["status"] == "DRAFT"


@then(parsers.parse('version {number:d} has {rows:d} rows with the columns "{columns}"'))
def version_rows_and_columns(world: dict, number: int, rows: int, columns: str) -> None:
    version = world["upload"]["version"]
    assert (version["number"], version["rowCount"]) == (number, rows), world["upload"]
    assert [c["name"] for c in version["columns"]] == [c.strip() for c in columns.split(",")]


@then(parsers.parse('version {number:d} has {rows:d} rows and was read as "{encoding}"'))
def version_encoding(world: dict, number: int, rows: int, encoding: str) -> None:
    version = world["upload"]["version"]
    assert (version["number"], version["rowCount"], version["encoding"]) == (number, rows, encoding)


def _anonymous_search(world: dict, text: str) -> list[dict]:
    api: GraphQLTestClient = world["api"]
    token, api.token = api.token, None
    try:
        return api.data("SearchCatalogue", search=text)["catalogue"]["nodes"]
    finally:
        api.token = token


@then(parsers.parse('an anonymous search for "{text}" finds "{name}" with {rows:d} rows'))
def anonymous_search_finds(world: dict, text: str, name: str, rows: int) -> None:
    nodes = _anonymous_search(world, text)
    assert [(n["name"], n["currentVersion"]["rowCount"]) for n in nodes] == [(name, rows)]


@then(parsers.parse('an anonymous search for "{text}" finds nothing'))
def anonymous_search_finds_nothing(world: dict, text: str) -> None:
    assert _anonymous_search(world, text) == []


@then("an anonymous look-up of the asset finds nothing")
def anonymous_lookup(world: dict) -> None:
    api: GraphQLTestClient = world["api"]
    api.token = None
    assert api.data("GetAsset", id=world["asset_id"])["asset"] is None


def _asset_as_staff(world: dict) -> dict:
    api = _as(world, "reviewer")
    return api.data("GetAsset", id=world["asset_id"])["asset"]


@then(parsers.parse('its history reads "{events}"'))
def history_reads(world: dict, events: str) -> None:
    history = _asset_as_staff(world)["history"]
    assert [h["event"] for h in history] == [e.strip() for e in events.split(",")]


@then(parsers.parse('the history names "{first}" for "{first_event}" and "{second}" for "{second_event}"'))
def history_names(world: dict, first: str, first_event: str, second: str, second_event: str) -> None:
    by_event = {h["event"]: h["byName"] for h in _asset_as_staff(world)["history"]}
    accounts = world["bank"].staff
    assert by_event[first_event] == accounts.find_by_username(first).name
    assert by_event[second_event] == accounts.find_by_username(second).name


@then(parsers.parse('the asset is "{status}"'))
def asset_status(world: dict, status: str) -> None:
    assert _asset_as_staff(world)["status"] == status


@then("the asset has no versions")
def no_versions(world: dict) -> None:
    asset = world["bank"].catalogue.get_asset(world["asset_id"])
    assert asset.versions == []
    assert _asset_as_staff(world)["versions"] == []
    assert not any(name.startswith("v_") for name in _datastore_tables(world))


def _datastore_tables(world: dict) -> list[str]:
    store = world["bank"].datastore
    return [t for t in store.tables()] if hasattr(store, "tables") else []


@then(parsers.re(r'the answer is the error "(?P<code>[A-Z_]+)"(?: on the field "(?P<field>[^"]+)")?'
                 r'(?: mentioning "(?P<where>[^"]+)")?$'))
def answer_is_error(world: dict, code: str, field: str | None, where: str | None) -> None:
    payload = _payload(world["answer"])
    (error,) = payload["errors"]
    assert error["code"] == code, error
    if field:
        assert error["field"] == field, error
    if where:
        assert re.search(re.escape(where), error["message"]), error


@then("the request is refused as too large")
def refused_too_large(world: dict) -> None:
    response = world["response"]
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@then(parsers.parse('the catalogue holds no asset named "{name}"'))
def no_asset_named(world: dict, name: str) -> None:
    api = _as(world, "reviewer")
    nodes = api.data("SearchCatalogue", search=name, status=["DRAFT", "SUBMITTED"])["catalogue"]["nodes"]
    assert nodes == []


def _camel_metadata(metadata: dict) -> dict:
    """The snake_case sample metadata as GraphQL input (camelCase keys, enum names)."""
    enums = {"category", "class_code", "data_type", "sensitivity", "type", "update_cycle"}

    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(p.title() for p in rest)

    def convert(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {camel(k): convert(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, key) for v in value]
        if key in enums and isinstance(value, str):
            return _enum_name(key, value)
        return value

    return convert(metadata)


def _enum_name(key: str, value: str) -> str:
    if key == "class_code":
        return {"1": "BASE", "2": "THEME", "3": "DEPARTMENT"}.get(value, value)
    return value.upper()


# =============================================================================================
# Licensing: licences, plans, organisations, subscriptions, conditional access (features/licensing)
# =============================================================================================

def _market(world: dict) -> dict:
    """The licensing part of the world: names → ids, and the Marketplace clock."""
    if "market" not in world:
        from support.marketplace import Clock

        world["bank"].marketplace.clock = Clock()
        world["market"] = {"licences": {}, "assets": {}, "plans": {}, "organisations": {}}
    return world["market"]


@given(parsers.parse('the data bank administrator "{username}"'))
def administrator(world: dict, username: str) -> None:
    """Opens an administrator account."""
    world["bank"].staff.open_account(username=username, name="数据银行管理员", role=Role.ADMIN,
                                     password=PASSWORD, by=ROOT_ADMIN)


@given(parsers.parse('the "{kind}" licence "{name}"'))
def licence(world: dict, kind: str, name: str) -> None:
    """Creates a licence template of that kind with terms version 1."""
    template = world["bank"].marketplace.create_licence_template(
        key=f"licence-{len(_market(world)['licences']) + 1}", name=name, kind=kind,
        text=f"{name}条款（第1版）", summary=f"{name}摘要", by=ROOT_ADMIN)
    _market(world)["licences"][name] = str(template.id)


@given(parsers.re(r'the (?P<open_type>unconditional|conditional|not_open) asset "(?P<asset>[^"]+)" of '
                  r'"(?P<department>[^"]+)" offered as "(?P<plan>[^"]+)" under "(?P<licence>[^"]+)"$'))
def offered_asset(world: dict, open_type: str, asset: str, department: str, plan: str,
                  licence: str) -> None:
    """Publishes an asset of that open type (reviewed and approved) and defines a free plan on it
    (10,000 rows a month, masked)."""
    from support.marketplace import publish_asset

    market = _market(world)
    publisher = Actor("pub", f"{department}数据专员", Role.PUBLISHER, world["departments"][department])
    asset_id = publish_asset(world["bank"], publisher, open_type, asset)
    defined = world["bank"].marketplace.define_plan(
        asset_id=asset_id, name=plan, licence_template_id=market["licences"][licence], price={},
        quotas={"rows_per_month": 10_000}, overage="block", field_tier="masked", by=ROOT_ADMIN)
    market["assets"][asset] = asset_id
    market["plans"][plan] = str(defined.id)
    world["bank"].catalogue_follower.catch_up()


@given(parsers.parse('the member "{email}" of the startup "{organisation}"'))
def member_of_startup(world: dict, email: str, organisation: str) -> None:
    """Signs a member up who registers the startup (a generated valid credit code) and owns it."""
    from support.marketplace import credit_code

    market = _market(world)
    account = world["bank"].marketplace.sign_up(email=email, name="李明", password=PASSWORD)
    registered = world["bank"].marketplace.register_organisation(
        credit_code=credit_code(len(market["organisations"]) + 11), name=organisation,
        kind="startup", by=account.actor())
    market["organisations"][organisation] = str(registered.id)


@given(parsers.parse('the administrator published new terms of "{licence}"'))
def new_terms(world: dict, licence: str) -> None:
    world["bank"].marketplace.publish_terms(_market(world)["licences"][licence], text="条款（第2版）",
                                            summary="第2版摘要", by=ROOT_ADMIN)


def _subscribe(world: dict, plan: str, version: int, with_application: bool) -> None:
    variables: dict[str, Any] = {"planId": _market(world)["plans"][plan],
                                 "acceptedTermsVersion": version}
    if with_application:
        variables["applicationId"] = world["application_id"]
    world["answer"] = world["api"].call("Subscribe", **variables)
    subscription = _payload(world["answer"])["subscription"]
    if subscription:
        world["subscription"] = subscription


@when(parsers.re(r'(?:they|"(?P<username>[^"]+)") subscribes? to "(?P<plan>[^"]+)" accepting terms '
                 r'version (?P<version>\d+)(?P<application> with the application)?$'))
def subscribe(world: dict, plan: str, version: str, username: str | None = None,
              application: str | None = None) -> None:
    """Subscribes through the API as the logged-in member (or logs ``username`` in first)."""
    if username:
        _as(world, username)
    _subscribe(world, plan, int(version), bool(application))


@given(parsers.parse('they subscribed to "{plan}" accepting terms version {version:d}'))
def subscribed(world: dict, plan: str, version: int) -> None:
    _subscribe(world, plan, version, False)
    assert _payload(world["answer"])["errors"] == []


@when(parsers.parse('they register the organisation "{name}" with the credit code "{code}"'))
def register_organisation(world: dict, name: str, code: str) -> None:
    world["answer"] = world["api"].call("RegisterOrganisation", creditCode=code, name=name)


@when(parsers.parse('"{username}" revokes the subscription because "{reason}"'))
def revoke_subscription(world: dict, username: str, reason: str) -> None:
    world["answer"] = _as(world, username).call(
        "RevokeSubscription", subscriptionId=world["subscription"]["id"], reason=reason)
    world["subscription"] = _payload(world["answer"])["subscription"] or world["subscription"]


@when(parsers.parse('they apply for "{asset}" to "{purpose}"'))
@given(parsers.parse('they applied for "{asset}" to "{purpose}"'))
def apply_for_access(world: dict, asset: str, purpose: str) -> None:
    """Submits an access application through the API (scenario and commitment filled in)."""
    world["answer"] = world["api"].call(
        "SubmitAccessApplication", assetId=_market(world)["assets"][asset], purpose=purpose,
        scenario="高校科研合作项目", securityCommitment="仅限项目组使用，不向第三方提供，期满删除")
    application = _payload(world["answer"])["application"]
    if application:
        world["application_id"] = application["id"]


@when(parsers.parse('"{username}" approves the application until "{period_end}"'))
def approve_application(world: dict, username: str, period_end: str) -> None:
    world["answer"] = _as(world, username).call(
        "ApproveAccessApplication", applicationId=world["application_id"], scope="人口流动研究",
        periodEnd=period_end)
    assert _payload(world["answer"])["errors"] == []


@when(parsers.parse('"{username}" rejects the application because "{reason}"'))
def reject_application(world: dict, username: str, reason: str) -> None:
    world["answer"] = _as(world, username).call(
        "RejectAccessApplication", applicationId=world["application_id"], reasons=[reason])


@when(parsers.parse("{days:d} working days pass without an answer"))
def working_days_pass(world: dict, days: int) -> None:
    """Moves the Marketplace clock on and runs the periodic escalation, as the server does."""
    from datetime import datetime, time

    from domain.application import CHINA, add_working_days, china_date

    clock = world["bank"].marketplace.clock
    clock.now = datetime.combine(add_working_days(china_date(clock.now), days), time(9), tzinfo=CHINA)
    assert world["bank"].marketplace.escalate_overdue() == [world["application_id"]]
    world["bank"].entitlements_follower.catch_up()  # the background follower would, within 50 ms


@then(parsers.parse('the subscription is "{status}" under terms version {version:d}'))
def subscription_is(world: dict, status: str, version: int) -> None:
    payload = _payload(world["answer"])
    assert payload["errors"] == [], payload
    assert (payload["subscription"]["status"], payload["subscription"]["termsVersion"]) == (
        status, version)


@then(parsers.parse('the access path finds the subscription of "{organisation}" to "{asset}" "{status}"'))
def access_path_finds(world: dict, organisation: str, asset: str, status: str) -> None:
    """Asks the entitlements read model what the data-access path will ask."""
    bank, market = world["bank"], _market(world)
    bank.entitlements_follower.catch_up()
    found = bank.entitlements_view.entitlement(market["organisations"][organisation],
                                               market["assets"][asset])
    assert found is not None and found.status == status
    assert found.ok is (status == "active")


@then(parsers.parse('"{username}" sees the subscription to "{asset}" as "{status}"'))
def sees_subscription(world: dict, username: str, asset: str, status: str) -> None:
    listed = _as(world, username).data("Subscriptions")["subscriptions"]
    assert [(s["asset"]["name"], s["status"]) for s in listed] == [(asset, status)]


def _application_as(world: dict, username: str) -> dict:
    listed = _as(world, username).data("AccessApplications")["applications"]
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
    payload = _payload(world["answer"])
    assert payload["errors"] == [] and payload["application"]["status"] == status, payload


# =============================================================================================
# The data access path: API keys, rows, quotas, masking (features/access)
# =============================================================================================

PEOPLE = [("341502199001010017", "王芳", "金安区"), ("34052419800101001X", "李强", "霍山县"),
          ("11010519491231002X", "张伟", "霍山县"), ("341502199001010017", "赵敏", "裕安区"),
          ("34052419800101001X", "刘洋", "霍山县"), ("11010519491231002X", "陈静", "叶集区")]


class _MonthClock:
    """The access path's clock, moved a month on by a step."""

    def __init__(self) -> None:
        from datetime import datetime, timedelta, timezone

        self.now = datetime(2026, 3, 10, 9, 0, tzinfo=timezone(timedelta(hours=8)))

    def __call__(self):
        return self.now


def _people_metadata(name: str) -> dict:
    items = [
        {"name": "序号", "data_type": "integer", "description": "", "sensitivity": "none", "key": True},
        {"name": "公民身份号码", "data_type": "string", "description": "", "sensitivity": "id_number", "key": False},
        {"name": "姓名", "data_type": "string", "description": "", "sensitivity": "name", "key": False},
        {"name": "所属区县", "data_type": "string", "description": "", "sensitivity": "none", "key": False},
    ]
    return sample_metadata(name=name, category="population", information_items=items,
                           classification={"class_code": "1", "item_code": "01", "catalog_code": "001",
                                           "detail_code": ""})


@given(parsers.parse('the resident list "{asset}" of "{department}" with {count:d} people, open to all'))
def resident_list(world: dict, asset: str, department: str, count: int) -> None:
    """Publishes an unconditionally open asset of people (valid identity numbers, names, counties)."""
    import io

    bank = world["bank"]
    market = _market(world)
    publisher = Actor("pub", f"{department}数据专员", Role.PUBLISHER, world["departments"][department])
    registered = bank.catalogue.register_asset(department_id=publisher.department_id,
                                               metadata=_people_metadata(asset), by=publisher)
    lines = ["序号,公民身份号码,姓名,所属区县"] + [
        f"{n},{pid},{name},{county}" for n, (pid, name, county) in enumerate(PEOPLE[:count], 1)]
    registered, number = bank.catalogue.upload_version(
        str(registered.id), io.BytesIO("\n".join(lines).encode()), source_format="csv", by=publisher)
    bank.catalogue.submit_for_review(str(registered.id), number, by=publisher)
    bank.catalogue.approve(str(registered.id), reason="核查通过", by=Actor("r", "审查员", Role.REVIEWER))
    bank.catalogue.publish(str(registered.id), number, by=publisher)
    bank.catalogue_follower.catch_up()
    market["assets"][asset] = str(registered.id)
    world["last_asset"] = asset
    world["clock"] = bank.row_access.clock = _MonthClock()


@given(parsers.re(r'it is offered as "(?P<plan>[^"]+)" under "(?P<licence>[^"]+)" with (?P<quota>\d+) rows '
                  r'a month, (?P<tier>masked|in full)$'))
def offered_with_quota(world: dict, plan: str, licence: str, quota: str, tier: str) -> None:
    """Defines a free plan on the last published asset with that monthly row quota and tier."""
    market = _market(world)
    defined = world["bank"].marketplace.define_plan(
        asset_id=market["assets"][world["last_asset"]], name=plan,
        licence_template_id=market["licences"][licence], price={},
        quotas={"rows_per_month": int(quota)}, overage="block",
        field_tier="masked" if tier == "masked" else "full", by=ROOT_ADMIN)
    market["plans"][plan] = str(defined.id)


@given(parsers.parse('they created the API key "{name}"'))
def created_api_key(world: dict, name: str) -> None:
    """The logged-in member creates a key with the rows:read scope; the plaintext is kept."""
    payload = _payload(world["api"].call("CreateApiKey", name=name, scopes=["rows:read", "catalogue:read"]))
    assert payload["errors"] == [], payload
    world["api_key"], world["api_key_id"] = payload["plaintext"], payload["apiKey"]["id"]


def _read(world: dict, asset: str | None, first: int, *, key: bool = True, after: str | None = None,
          where: dict | None = None) -> None:
    api: GraphQLTestClient = world["api"]
    asset_id = _market(world)["assets"][asset or world["read_asset"]]
    world["read_asset"] = asset or world["read_asset"]
    token, api.token = api.token, (world["api_key"] if key else None)
    try:
        variables: dict[str, Any] = {"assetId": asset_id, "first": first}
        if after:
            variables["after"] = after
        if where:
            variables["where"] = where
        world["response"] = api.http.post("/graphql", json={"query": operation("Rows"), "variables": variables},
                                          headers=api.headers())
    finally:
        api.token = token
    body = world["response"].json()
    if body.get("data") and body["data"].get("rows"):
        world["cursor"] = body["data"]["rows"]["pageInfo"]["endCursor"]


@when(parsers.parse('the key reads {first:d} rows of "{asset}"'))
def key_reads(world: dict, first: int, asset: str) -> None:
    _read(world, asset, first)


@when(parsers.parse("the key reads the next {first:d} rows"))
def key_reads_next(world: dict, first: int) -> None:
    _read(world, None, first, after=world["cursor"])


@when(parsers.parse('the key reads "{asset}" where "{column}" is "{value}"'))
def key_reads_where(world: dict, asset: str, column: str, value: str) -> None:
    _read(world, asset, 10, where={column: value})


@when(parsers.parse('an anonymous person reads {first:d} rows of "{asset}"'))
def anonymous_reads(world: dict, first: int, asset: str) -> None:
    _read(world, asset, first, key=False)


@when("the next month begins")
def next_month(world: dict) -> None:
    from datetime import timedelta

    world["clock"].now += timedelta(days=31)


@when("they revoke the API key")
def revoke_key(world: dict) -> None:
    payload = _payload(world["api"].call("RevokeApiKey", keyId=world["api_key_id"]))
    assert payload["errors"] == [], payload


@then(parsers.re(r"the answer has (?P<count>\d+) rows(?: and (?P<left>\d+) rows remain this month)?$"))
def answer_rows(world: dict, count: str, left: str | None) -> None:
    response = world["response"]
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert len(body["data"]["rows"]["rows"]) == int(count)
    if left is not None:
        assert body["extensions"]["quota"]["rowsRemaining"] == int(left)
        assert response.headers["X-RateLimit-Remaining"] == left


@then(parsers.parse('the request is refused with "{code}" until the first of next month'))
def refused_until_next_month(world: dict, code: str) -> None:
    response = world["response"]
    error = response.json()["errors"][0]
    assert response.status_code == 429 and error["extensions"]["code"] == code
    expected = (error["extensions"]["resetAt"], int(response.headers["Retry-After"]))
    assert expected[0] == "2026-04-01T00:00:00+08:00"
    assert expected[1] == int((world["clock"].now.replace(month=4, day=1, hour=0) - world["clock"].now).total_seconds())


@then(parsers.parse('the request is refused with "{code}" saying "{words}"'))
def refused_saying(world: dict, code: str, words: str) -> None:
    errors = world["response"].json()["errors"]
    assert errors[0]["extensions"]["code"] == code, errors
    assert words in errors[0]["message"], errors


@then(parsers.parse('the identity number reads "{number}" and the name "{name}"'))
def first_row_masked(world: dict, number: str, name: str) -> None:
    row = world["response"].json()["data"]["rows"]["rows"][0]
    assert (row["公民身份号码"], row["姓名"]) == (number, name)


@then(parsers.parse('every row has "{column}" "{value}"'))
def every_row_has(world: dict, column: str, value: str) -> None:
    rows = world["response"].json()["data"]["rows"]["rows"]
    assert rows and all(r[column] == value for r in rows), rows


# =============================================================================================
# The Python SDK (features/sdk): a developer's client over the same API
# =============================================================================================

def _sdk(world: dict):
    """A ``databank.Client`` with the scenario's API key, talking to the scenario's app through
    Starlette's TestClient; ``world["sdk_transport"].requests`` counts what it sent."""
    import databank
    from support.sdk_server import StarletteTransport

    transport = StarletteTransport(world["api"].http)
    world["sdk_transport"] = transport
    return databank.Client(world["api_key"], base_url="http://testserver", transport=transport,
                           max_retries=3)


@when(parsers.parse('the developer searches the catalogue with the SDK for "{text}"'))
def sdk_search(world: dict, text: str) -> None:
    with _sdk(world) as client:
        world["sdk_assets"] = list(client.catalogue.search(text))


@then(parsers.parse('the SDK finds "{name}"'))
def sdk_finds(world: dict, name: str) -> None:
    assert name in [asset.name for asset in world["sdk_assets"]], world["sdk_assets"]


@when(parsers.parse('the developer pulls {count:d} rows of "{asset}" with the SDK'))
def sdk_pull(world: dict, count: int, asset: str) -> None:
    """Pulls into a list (and a pandas DataFrame when pandas is installed: it is optional)."""
    with _sdk(world) as client:
        rows = client.assets.rows(_market(world)["assets"][asset], limit=count, page_size=3)
        world["sdk_rows"], world["sdk_page"] = list(rows), rows.last_page


@then(parsers.parse('the SDK gives {count:d} rows with the columns "{columns}"'))
def sdk_rows(world: dict, count: int, columns: str) -> None:
    rows = world["sdk_rows"]
    assert len(rows) == count and all(list(row) == columns.split(",") for row in rows), rows
    try:
        import pandas
    except ImportError:
        return
    assert list(pandas.DataFrame(rows).columns) == columns.split(",")


@then(parsers.parse("the SDK says {left:d} rows remain this month"))
def sdk_rows_left(world: dict, left: int) -> None:
    assert world["sdk_page"].quota.rows_remaining == left


@when(parsers.parse('the developer pulls every row of "{asset}" with the SDK'))
def sdk_pull_all(world: dict, asset: str) -> None:
    import databank

    world["sdk_rows"], world["sdk_error"] = [], None
    with _sdk(world) as client:
        try:
            for row in client.assets.rows(_market(world)["assets"][asset], page_size=2):
                world["sdk_rows"].append(row)
        except databank.DatabankError as exc:
            world["sdk_error"] = exc


@then(parsers.parse('the SDK raised QuotaExceededError after {count:d} rows, resetting at "{reset}"'))
def sdk_quota_exceeded(world: dict, count: int, reset: str) -> None:
    import databank

    error = world["sdk_error"]
    assert isinstance(error, databank.QuotaExceededError), error
    assert len(world["sdk_rows"]) == count and error.reset_at.isoformat() == reset
    assert error.retry_after and error.retry_after > 60


@then(parsers.parse("the server was asked {count:d} times, without retries"))
def sdk_requests(world: dict, count: int) -> None:
    assert len(world["sdk_transport"].requests) == count



@when(parsers.parse('the developer exports "{asset}" where "{column}" is "{value}" into pandas with the SDK'))
def sdk_export_to_pandas(world: dict, asset: str, column: str, value: str) -> None:
    """``client.assets.export(...).to_pandas()`` (pandas is a test dependency; the SDK keeps it
    optional)."""
    with _sdk(world) as client:
        asset_id = _market(world)["assets"][asset]
        export = client.assets.export(asset_id, format="csv", where={column: value})
        world["sdk_frame"], world["sdk_export"] = export.to_pandas(), export


@then(parsers.parse('the DataFrame has {count:d} rows with the columns "{columns}"'))
def sdk_frame_rows(world: dict, count: int, columns: str) -> None:
    frame = world["sdk_frame"]
    assert len(frame) == count and list(frame.columns) == columns.split(","), frame


@then(parsers.parse('every "{column}" in the DataFrame is "{value}" and no "{masked}" is shown in full'))
def sdk_frame_values(world: dict, column: str, value: str, masked: str) -> None:
    frame = world["sdk_frame"]
    assert set(frame[column]) == {value}, frame
    shown = {pid for pid, _, _ in PEOPLE}
    assert not shown & set(frame[masked]) and all("*" in v for v in frame[masked]), frame


@then(parsers.parse("the export says {left:d} rows remain this month"))
def sdk_export_rows_left(world: dict, left: int) -> None:
    assert world["sdk_export"].state.rows_remaining == left


# ==== Billing (features/billing/) ================================================================
# A bank of its own with a Stripe webhook secret and the fake billing gateway; webhooks are
# delivered over HTTP, signed with stripe.WebhookSignature as Stripe signs them.

def _billing(world: dict) -> dict:
    return world["billing"]


def _deliver(world: dict, kind: str, obj: dict, *, created: int | None = None,
             event_id: str | None = None) -> dict:
    from support.billing import signed, stripe_event

    state = _billing(world)
    state["events"] += 1
    # Stripe's clock: events go out a minute apart unless a step dates one (a late delivery).
    if created is None:
        created = state["clock"] = state["clock"] + 60
    state["clock"] = max(state["clock"], created)
    event = stripe_event(event_id or f"evt_{state['events']}", kind, obj, created=created)
    body, header = signed(event)
    answer = state["http"].post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    state["answers"].append(answer.status_code)
    return answer.json()


def _about(world: dict, kind: str, **fields: Any) -> dict:
    from support.billing import for_subscription

    return for_subscription(_billing(world)["paid"].subscription_id, kind, **fields)


@given(parsers.parse("a startup subscribed to a plan of {monthly:d} fen a month and {per_1k:d} fen per 1000 rows"))
def paid_plan_subscription(world: dict, request: Any, monthly: int, per_1k: int) -> None:
    """A bank with webhooks on and the fake gateway; a startup's subscription awaits payment."""
    from marketplace.billing import FakeBillingGateway
    from support import billing as support

    assert (monthly, per_1k) == (support.PAID_PRICE["monthly_fee_fen"], support.PAID_PRICE["per_1k_rows_fen"])
    bank = build_in_memory(Settings(stripe_webhook_secret=support.WEBHOOK_SECRET, payment_grace_hours=72))
    request.addfinalizer(bank.close)
    bank.billing.gateway = gateway = FakeBillingGateway()
    paid = support.paid_subscription(bank)
    bank.billing.start_checkout(paid.subscription_id, by=paid.member)
    world["billing"] = {"bank": bank, "paid": paid, "gateway": gateway, "events": 0, "answers": [],
                        "clock": INVOICE_DUE - 30 * 86400,
                        "http": TestClient(create_app(bank, start_followers=False))}


@when("Stripe reports the checkout completed")
@given("Stripe reported the checkout completed")
def checkout_completed(world: dict) -> None:
    _deliver(world, "checkout.session.completed", _about(world, "checkout.session.completed"))


@when(parsers.parse("the startup is served {rows:d} rows"))
def served_rows(world: dict, rows: int) -> None:
    """Rows go through the quota ledger; the fed batch reaches the meter and the gateway."""
    from datetime import datetime, timezone

    from domain.metering import period_of

    state = _billing(world)
    bank, subscription_id = state["bank"], state["paid"].subscription_id
    now = datetime.now(timezone.utc)
    for _ in range(2):
        bank.ledger.reserve(subscription_id, period_of(now), rows_wanted=rows // 2, rows_quota=None,
                            calls_quota=None, rate_limit_per_minute=None, now=now, final=True)
    batch = bank.ledger.claim_feed_batch(1000, grace_seconds=0)
    bank.metering.record_batch(batch)
    state["report"] = bank.billing.send_usage(batch)
    bank.ledger.mark_fed(batch.number)


@then(parsers.parse("Stripe was sent {rows:d} rows under one usage identifier"))
def rows_sent(world: dict, rows: int) -> None:
    state = _billing(world)
    [identifier] = state["report"].acknowledged
    assert identifier.startswith("usage-") and state["gateway"].usage[identifier].rows == rows


@when("Stripe reports the invoice paid")
def invoice_paid(world: dict) -> None:
    _deliver(world, "invoice.paid", _about(world, "invoice."))


INVOICE_DUE = 1_790_000_000


@when(parsers.parse("Stripe reports a failed payment {days:d} day after the invoice fell due"))
@when(parsers.parse("Stripe reports a failed payment {days:d} days after the invoice fell due"))
@given(parsers.parse("Stripe reported a failed payment {days:d} days after the invoice fell due"))
def payment_failed(world: dict, days: int) -> None:
    _deliver(world, "invoice.payment_failed", _about(world, "invoice.", due_date=INVOICE_DUE),
             created=INVOICE_DUE + days * 86400)


@when(parsers.parse('Stripe delivers late a "subscription updated" to "{status}" it sent {days:d} days '
                    "after the invoice fell due"))
def late_subscription_update(world: dict, status: str, days: int) -> None:
    answer = _deliver(world, "customer.subscription.updated", _about(world, "subscription", status=status),
                      created=INVOICE_DUE + days * 86400)
    assert answer["outcome"].startswith("ignored: older"), answer


@when(parsers.parse("Stripe delivers late a checkout completion it sent {days:d} day after the invoice fell due"))
def late_checkout_completion(world: dict, days: int) -> None:
    answer = _deliver(world, "checkout.session.completed", _about(world, "checkout.session.completed"),
                      created=INVOICE_DUE + days * 86400)
    assert answer["outcome"].startswith("ignored: older"), answer


@then(parsers.parse('the paid subscription is "{status}"'))
def paid_status(world: dict, status: str) -> None:
    state = _billing(world)
    assert state["bank"].marketplace.get_subscription(state["paid"].subscription_id).status == status


@then(parsers.parse('the paid subscription is "{status}" because the payment failed'))
def paid_status_because(world: dict, status: str) -> None:
    state = _billing(world)
    subscription = state["bank"].marketplace.get_subscription(state["paid"].subscription_id)
    assert subscription.status == status and subscription.reason.startswith("payment failed")


@then("the organisation is told its subscription was suspended")
def told_suspended(world: dict) -> None:
    """The suspension reaches the organisation's notifications (the entitlements read model)."""
    state = _billing(world)
    bank, paid = state["bank"], state["paid"]
    bank.entitlements_follower.catch_up()
    notices = bank.entitlements_view.notifications_of(paid.organisation_id)
    assert [(n["kind"], n["subscription_id"]) for n in notices][:1] == [
        ("subscription_suspended", paid.subscription_id)]
    assert notices[0]["reason"].startswith("payment failed")


@when(parsers.parse('Stripe delivers the subscription update "{updated}" before its creation "{created}"'))
def out_of_order(world: dict, updated: str, created: str) -> None:
    _deliver(world, "customer.subscription.updated", _about(world, "subscription", status=updated))
    _deliver(world, "customer.subscription.created", _about(world, "subscription", status=created))


@when(parsers.parse("Stripe delivers the same checkout completion {times:d} times"))
def repeated_delivery(world: dict, times: int) -> None:
    for _ in range(times):
        _deliver(world, "checkout.session.completed", _about(world, "checkout.session.completed"),
                 event_id="evt_checkout_repeated")


@then(parsers.parse("every delivery was answered {status:d}"))
def all_answered(world: dict, status: int) -> None:
    assert _billing(world)["answers"] and set(_billing(world)["answers"]) == {status}


@then("the paid subscription was activated once")
def activated_once(world: dict) -> None:
    from uuid import UUID

    state = _billing(world)
    events = state["bank"].marketplace.repository.event_store.get(UUID(state["paid"].subscription_id))
    assert [type(e).__qualname__ for e in events].count("Subscription.Activated") == 1


# ---- Logging in: throttled password guessing (features/identity/) ------------------------------


class _Seconds:
    """A settable monotonic clock for the login throttle."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _throttle_clock(world: dict) -> _Seconds:
    if "throttle_clock" not in world:
        world["throttle_clock"] = world["bank"].login_throttle.clock = _Seconds()
    return world["throttle_clock"]


def _try_login(world: dict, username: str, password: str) -> Any:
    _throttle_clock(world)
    return world["api"].http.post("/graphql", json={
        "query": operation("Login"), "variables": {"username": username, "password": password}})


@when(parsers.re(r'someone tries (?P<count>\d+) wrong passwords? for "(?P<username>[^"]+)"$'))
def wrong_passwords(world: dict, count: str, username: str) -> None:
    world["response"] = None
    for n in range(int(count)):
        world["response"] = _try_login(world, username, f"wrong-guess-{n}")


@when(parsers.parse('someone tries {count:d} passwords for "{username}" in one request'))
def aliased_passwords(world: dict, count: int, username: str) -> None:
    fields = " ".join(f'a{n}: login(username: "{username}", password: "guess-{n}") {{ token }}'
                      for n in range(count))
    world["response"] = world["api"].http.post("/graphql", json={"query": f"mutation {{ {fields} }}"})


@when(parsers.re(r"(?P<seconds>\d+) seconds? pass(?:es)?$"))
def seconds_pass(world: dict, seconds: str) -> None:
    _throttle_clock(world).now += int(seconds)


@then(parsers.re(r'the last attempt is refused as "(?P<code>[A-Z_]+)", to be retried after '
                 r'(?P<seconds>\d+) seconds?$'))
def last_attempt_refused(world: dict, code: str, seconds: str) -> None:
    response = world["response"]
    assert response.status_code == 429, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert response.headers["Retry-After"] == seconds


@then(parsers.parse('the right password of "{username}" is refused as well'))
def right_password_refused(world: dict, username: str) -> None:
    response = _try_login(world, username, PASSWORD)
    assert response.status_code == 429 and response.json()["data"] == {"login": None}


@then(parsers.parse('"{username}" logs in with the right password'))
def logs_in(world: dict, username: str) -> None:
    response = _try_login(world, username, PASSWORD)
    assert response.status_code == 200 and response.json()["data"]["login"]["token"]


@then(parsers.parse('the request is refused as "{code}" naming "{name}"'))
def request_refused_naming(world: dict, code: str, name: str) -> None:
    response = world["response"]
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code and name in error["message"]


@then("an anonymous reader of its history sees no internal table names")
def public_history(world: dict) -> None:
    api: GraphQLTestClient = world["api"]
    api.token = None
    history = api.data("GetAsset", id=world["asset_id"])["asset"]["history"]
    details = repr([entry["details"] for entry in history])
    table = world["bank"].catalogue.get_asset(world["asset_id"]).get_version(1)["table"]
    assert history and table not in details and "originator_topic" not in details
