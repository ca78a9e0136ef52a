"""The authorisation matrix: every GraphQL operation × every role, from ONE table (issue 9).

``MATRIX`` below says, for each root Query and Mutation field of the schema, which roles are
allowed; every other role is denied. The operations are enumerated from the schema itself, so an
operation added without a row fails ``test_every_operation_has_a_row``. Each cell is a real request
to /graphql in process (Starlette TestClient over a bank in memory) aimed at something that
belongs to organisation A or department X, and is judged by its outcome class:

- allowed: the answer shows or changes the thing aimed at; or the mutation's payload refuses for a
  business reason that is not about who asks (``INVALID_STATE``, ``ALREADY_EXISTS`` ...);
- denied: a top-level ``UNAUTHENTICATED``, ``FORBIDDEN`` or ``NOT_FOUND``; a payload error
  ``NOT_PERMITTED``, ``SELF_REVIEW``, ``FORBIDDEN`` or ``NOT_FOUND``; or an answer that does not
  show the thing (null, an empty list, a list without it) — what a caller gets for a missing thing.

Anything else (a server error, an error without ``extensions.code``, ``BAD_USER_INPUT`` for a
well-formed request) fails the cell. Cells that change state aim at things made fresh for them.

The roles: anonymous; the owner and a plain member of organisation A (their tokens act for A);
the owner of organisation B ("member of B": the most a B person can be, and still a stranger to
A); the publishers of departments X and Y; a central reviewer (no department); an administrator.
"""

from __future__ import annotations

import io
import itertools
import uuid
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from domain.actors import Actor, Role
from domain.metering import CHINA
from marketplace.api.schema import schema
from marketplace.bootstrap import DataBank, build_in_memory
from marketplace.services.access import Caller
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.catalogue import sample_metadata
from support.marketplace import ADMIN, CSV, OPENINGS, PASSWORD, credit_code, publish_asset

ROLES = ("anonymous", "ownerA", "memberA", "memberB", "publisherX", "publisherY", "reviewer", "admin")

# The one table. Y: allowed, .: denied.
MATRIX_TEXT = """
operation                  anonymous ownerA memberA memberB publisherX publisherY reviewer admin
# --- who am I, and public reading
viewer                     Y         Y      Y       Y       Y          Y          Y        Y
departments                Y         Y      Y       Y       Y          Y          Y        Y
department                 Y         Y      Y       Y       Y          Y          Y        Y
licenceTemplates           Y         Y      Y       Y       Y          Y          Y        Y
plans                      Y         Y      Y       Y       Y          Y          Y        Y
# --- the catalogue's unpublished work (a draft or submitted asset of department X)
catalogue                  .         .      .       .       Y          .          Y        Y
asset                      .         .      .       .       Y          .          Y        Y
assetByCode                .         .      .       .       Y          .          Y        Y
reviewQueue                .         .      .       .       .          .          Y        Y
# --- organisation A's things
myOrganisations            .         Y      Y       .       .          .          .        .
myOrganisation             .         Y      Y       .       .          .          .        .
apiKeys                    .         Y      Y       .       .          .          .        Y
notifications              .         Y      Y       .       .          .          .        Y
subscriptions              .         Y      Y       .       .          .          .        Y
applications               .         Y      Y       .       Y          .          .        Y
usage                      .         Y      Y       .       .          .          .        Y
usageReport                .         Y      Y       .       Y          .          .        Y
usageByAsset               .         .      .       .       Y          .          .        Y
usageByDepartment          .         .      .       .       .          .          .        Y
invoices                   .         Y      Y       .       .          .          .        .
billingStatus              .         Y      Y       .       .          .          .        .
rows                       .         Y      Y       .       .          .          .        .
# --- accounts and organisations
signUp                     Y         Y      Y       Y       Y          Y          Y        Y
login                      Y         Y      Y       Y       Y          Y          Y        Y
switchOrganisation         .         Y      Y       .       .          .          .        .
registerOrganisation       .         Y      Y       Y       .          .          .        .
addOrganisationMember      .         Y      .       .       .          .          .        .
inviteMember               .         Y      .       .       .          .          .        .
acceptInvitation           .         .      .       .       .          .          .        .
createApiKey               .         Y      Y       .       .          .          .        .
revokeApiKey               .         Y      Y       .       .          .          .        Y
startCheckout              .         Y      Y       .       .          .          .        .
openBillingPortal          .         Y      Y       .       .          .          .        .
requestExport              .         Y      Y       .       .          .          .        .
# --- licences, plans, subscriptions, access applications
createLicenceTemplate      .         .      .       .       .          .          .        Y
publishLicenceTerms        .         .      .       .       .          .          .        Y
definePlan                 .         .      .       .       .          .          .        Y
retirePlan                 .         .      .       .       .          .          .        Y
subscribe                  .         Y      Y       .       .          .          .        .
revokeSubscription         .         .      .       .       Y          .          .        Y
submitAccessApplication    .         Y      Y       .       .          .          .        .
approveAccessApplication   .         .      .       .       Y          .          .        .
rejectAccessApplication    .         .      .       .       Y          .          .        .
# --- staff and the catalogue's workflow
openStaffAccount           .         .      .       .       .          .          .        Y
registerDepartment         .         .      .       .       .          .          .        Y
registerAsset              .         .      .       .       Y          .          .        .
updateAssetMetadata        .         .      .       .       Y          .          .        .
uploadVersion              .         .      .       .       Y          .          .        .
submitForReview            .         .      .       .       Y          .          .        .
approveAsset               .         .      .       .       .          .          Y        .
rejectAsset                .         .      .       .       .          .          Y        .
clearPersonalColumn        .         .      .       .       .          .          Y        .
publishAsset               .         .      .       .       Y          .          .        .
withdrawAsset              .         .      .       .       Y          .          .        Y
"""


def _parse(text: str) -> dict[str, dict[str, bool]]:
    lines = [line.split() for line in text.strip().splitlines() if not line.startswith("#")]
    header, rows = lines[0], lines[1:]
    assert tuple(header[1:]) == ROLES, header
    table: dict[str, dict[str, bool]] = {}
    for operation, *marks in rows:
        assert operation not in table, f"operation {operation} has two rows"
        assert len(marks) == len(ROLES) and set(marks) <= {"Y", "."}, operation
        table[operation] = {role: mark == "Y" for role, mark in zip(ROLES, marks)}
    return table


MATRIX = _parse(MATRIX_TEXT)


def schema_operations() -> set[str]:
    graphql_schema = schema.graphql_schema
    return set(graphql_schema.query_type.fields) | set(graphql_schema.mutation_type.fields)


# ---- the world ---------------------------------------------------------------------------------

METADATA_INPUT = {
    "name": "公交站点", "abstract": "六安市城区公交站点名称与经纬度。", "format": "CSV",
    "classification": {"classCode": "THEME", "itemCode": "08", "catalogCode": "001"},
    "category": "TRANSPORT", "updateCycle": "MONTHLY", "securityLevel": 1,
    "informationItems": [{"name": n, "dataType": t, "sensitivity": "NONE", "key": n == "站点编号"}
                         for n, t in (("站点编号", "STRING"), ("站点名称", "STRING"),
                                      ("经度", "DECIMAL"), ("纬度", "DECIMAL"))],
    "sharing": {"type": "UNCONDITIONAL", "mode": "接口"}, "opening": {"type": "UNCONDITIONAL"},
}


PHONES_CSV = ("站点编号,站点名称,经度,纬度,联系电话\n" + "".join(
    f"LA{i:04d},站点{i},116.50{i:02d},31.75{i:02d},1380000{i:04d}\n" for i in range(1, 21))).encode()


@dataclass
class World:
    """Organisations A and B, departments X and Y, and things of theirs each cell can aim at."""

    bank: DataBank
    http: TestClient
    actors: dict[str, Actor]
    headers: dict[str, dict[str, str]]
    org_a: str
    dept_x: str
    open_asset: str  # X's unconditionally open, published asset (plans are defined on it)
    conditional_asset: str  # X's conditional asset that A subscribes to (rows, exports)
    draft_asset: str  # X's draft (registered, one version uploaded)
    submitted_asset: str  # X's asset waiting for review
    application_a: str  # A's approved application to the conditional asset
    subscription_a: str  # A's active subscription to the conditional asset
    template: str  # the open licence template (terms version 1)
    terms_template: str  # a template whose terms versions the publishLicenceTerms cells bump
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1000))

    def n(self) -> int:
        return next(self._counter)

    def caught_up(self) -> None:
        self.bank.catalogue_follower.catch_up()
        self.bank.entitlements_follower.catch_up()

    # things made fresh for one cell
    def asset_of_x(self, stage: str, *, with_phones: bool = False) -> str:
        """A new asset of department X at ``stage``: draft, submitted, approved or published;
        ``with_phones``: with a column of mobile numbers its publisher declared not personal."""
        publisher, catalogue = self.actors["publisherX"], self.bank.catalogue
        metadata = sample_metadata(name=f"新资产{self.n()}", opening=OPENINGS["unconditional"])
        content = CSV
        if with_phones:
            metadata["information_items"] = [*metadata["information_items"], {
                "name": "联系电话", "data_type": "string", "description": "", "sensitivity": "none",
                "key": False}]
            content = PHONES_CSV
        asset_id = str(catalogue.register_asset(department_id=self.dept_x, metadata=metadata,
                                                by=publisher).id)
        catalogue.upload_version(asset_id, io.BytesIO(content), source_format="csv", by=publisher)
        if stage != "draft":
            catalogue.submit_for_review(asset_id, 1, by=publisher)
        if stage in ("approved", "published"):
            catalogue.approve(asset_id, reason="核查通过", by=self.actors["reviewer"])
        if stage == "published":
            catalogue.publish(asset_id, 1, by=publisher)
        self.caught_up()
        return asset_id

    def plan(self, **price: int) -> str:
        plan = self.bank.licensing.define_plan(
            asset_id=self.open_asset, name=f"套餐{self.n()}", licence_template_id=self.template,
            price=price, quotas={"rows_per_month": 1000}, overage="block", field_tier="masked",
            by=ADMIN)
        self.caught_up()
        return str(plan.id)

    def subscription_of_a(self, **price: int) -> str:
        subscription = self.bank.subscriptions.subscribe(self.org_a, self.plan(**price),
                                                       accepted_terms_version=1,
                                                       by=self.actors["ownerA"])
        self.caught_up()
        return str(subscription.id)

    def application_of_a(self) -> str:
        application = self.bank.access_applications.submit_application(
            self.org_a, self.conditional_asset, purpose="交通研究", scenario="线路优化",
            security_commitment="不外传", by=self.actors["ownerA"])
        self.caught_up()
        return str(application.id)

    def key_of_a(self) -> str:
        key, _ = self.bank.api_keys.create_api_key(self.org_a, name=f"k{self.n()}",
                                                      scopes=["rows:read"], by=self.actors["ownerA"])
        self.caught_up()
        return str(key.id)

    def asset_entry(self, asset_id: str) -> dict:
        return self.bank.catalogue_view.get(asset_id)


def _build_world(http: TestClient, bank: DataBank) -> World:
    catalogue, staff = bank.catalogue, bank.staff
    dept_x = str(catalogue.register_department(code=credit_code(1, "11341500"), name="六安市交通运输局",
                                               contact="", by=ADMIN).id)
    dept_y = str(catalogue.register_department(code=credit_code(2, "11341500"), name="六安市民政局",
                                               contact="", by=ADMIN).id)
    actors: dict[str, Actor] = {"anonymous": Actor("anonymous", "anonymous", Role.ANONYMOUS)}
    for role, username, staff_role, department in (
            ("publisherX", "pubx", Role.PUBLISHER, dept_x), ("publisherY", "puby", Role.PUBLISHER, dept_y),
            ("reviewer", "reviewer", Role.REVIEWER, None), ("admin", "admin", Role.ADMIN, None)):
        actors[role] = staff.open_account(username=username, name=f"{username}员", role=staff_role,
                                          password=PASSWORD, department_id=department, by=ADMIN).actor()
    owner_a = bank.members.sign_up(email="owner@a.example", name="甲主", password=PASSWORD)
    org_a = str(bank.organisations.register_organisation(credit_code=credit_code(11), name="甲公司",
                                             kind="startup", by=owner_a.actor()).id)
    member_a = bank.members.sign_up(email="member@a.example", name="甲员", password=PASSWORD)
    bank.organisations.add_member(org_a, email="member@a.example", by=bank.members.get_member(str(owner_a.id)).actor())
    bank.members.switch_organisation(str(member_a.id), org_a)
    owner_b = bank.members.sign_up(email="owner@b.example", name="乙主", password=PASSWORD)
    bank.organisations.register_organisation(credit_code=credit_code(12), name="乙公司", kind="startup",
                                 by=owner_b.actor())
    for role, account in (("ownerA", owner_a), ("memberA", member_a), ("memberB", owner_b)):
        actors[role] = bank.members.get_member(str(account.id)).actor()
    bank.members.sign_up(email="login@c.example", name="登录者", password=PASSWORD)

    publisher = actors["publisherX"]
    # publish_asset approves with its own central reviewer actor: the reviewer's role is what counts
    open_asset = publish_asset(bank, publisher, "unconditional", "公交站点")
    conditional_asset = publish_asset(bank, publisher, "conditional", "公交刷卡记录")
    templates = {kind: str(bank.licensing.create_licence_template(
        key=key, name=name, kind=kind, text=f"{name}条款", summary="摘要", by=ADMIN).id)
        for kind, key, name in (("open", "open-v1", "开放数据许可"),
                                ("conditional_research", "research-v1", "科研数据许可"),
                                ("commercial", "commercial-v1", "商业数据许可"))}
    research_plan = str(bank.licensing.define_plan(
        asset_id=conditional_asset, name="科研版", licence_template_id=templates["conditional_research"],
        price={}, quotas={"rows_per_month": 10_000}, overage="block", field_tier="masked", by=ADMIN).id)
    bank.licensing.define_plan(asset_id=open_asset, name="免费版", licence_template_id=templates["open"],
                       price={}, quotas={"rows_per_month": 10_000}, overage="block",
                       field_tier="masked", by=ADMIN)
    application = bank.access_applications.submit_application(org_a, conditional_asset, purpose="交通研究",
                                            scenario="线路优化", security_commitment="不外传",
                                            by=actors["ownerA"])
    bank.access_applications.approve_application(str(application.id), scope="线路优化研究", period_end=date(2099, 12, 31),
                               by=publisher)
    subscription = bank.subscriptions.subscribe(org_a, research_plan, accepted_terms_version=1,
                                    application_id=str(application.id), by=actors["ownerA"])
    bank.api_keys.create_api_key(org_a, name="etl", scopes=["rows:read"], by=actors["ownerA"])

    world = World(bank=bank, http=http, actors=actors, headers={}, org_a=org_a, dept_x=dept_x,
                  open_asset=open_asset, conditional_asset=conditional_asset, draft_asset="",
                  submitted_asset="", application_a=str(application.id),
                  subscription_a=str(subscription.id), template=templates["open"],
                  terms_template=templates["commercial"])
    world.draft_asset = world.asset_of_x("draft")
    world.submitted_asset = world.asset_of_x("submitted")
    world.caught_up()
    # A reads rows once, and the usage is fed into the daily read model (usage reports)
    bank.row_access.rows(Caller(actors["ownerA"]), conditional_asset, first=10)
    bank.metering.feed_all(grace_seconds=0)
    for role, actor in actors.items():
        if role != "anonymous":
            token, _ = bank.tokens.issue(subject=actor.user_id, name=actor.name, role=actor.role.value,
                                         department_id=actor.department_id,
                                         organisation_id=actor.organisation_id)
            world.headers[role] = {"Authorization": f"Bearer {token}"}
    world.headers["anonymous"] = {}
    return world


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    with TestClient(create_app(bank)) as http:
        yield _build_world(http, bank)


# ---- the probes: one request per operation, aimed at A's or X's things ---------------------------

Variables = Callable[[World], dict]
Judge = Callable[[Any, World, dict], bool]


@dataclass(frozen=True)
class Probe:
    document: str
    variables: Variables = lambda w: {}
    judge: Judge = lambda value, w, v: bool(value)  # noqa: E731 - the common case: something shown


def _has(key: str, wanted: Callable[[World, dict], str]) -> Judge:
    return lambda value, w, v: any(item[key] == wanted(w, v) for item in value or [])


def _payload(main: str) -> Judge:
    """A mutation that did what it was asked (business refusals are judged before this)."""
    return lambda value, w, v: value is not None and value[main] is not None


def _days() -> dict[str, str]:
    """A week around today (China time): the days the world's usage was metered on."""
    today = datetime.now(CHINA).date()
    return {"from": (today - timedelta(days=7)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}


ERRORS = "errors { field message code }"
PROBES: dict[str, Probe] = {
    "viewer": Probe("query { viewer { id role } }", judge=lambda value, w, v: value["id"] != ""),
    "departments": Probe("query { departments { id } }", judge=_has("id", lambda w, v: w.dept_x)),
    "department": Probe("query($id: ID!) { department(id: $id) { id } }", lambda w: {"id": w.dept_x}),
    "licenceTemplates": Probe("query { licenceTemplates { id } }"),
    "plans": Probe("query($a: ID!) { plans(assetId: $a) { id } }", lambda w: {"a": w.open_asset}),
    "catalogue": Probe("query($d: ID) { catalogue(status: [DRAFT, SUBMITTED], departmentId: $d) "
                       "{ nodes { id } } }", lambda w: {"d": w.dept_x},
                       judge=lambda value, w, v: w.draft_asset in [n["id"] for n in value["nodes"]]),
    "asset": Probe("query($id: ID!) { asset(id: $id) { id } }", lambda w: {"id": w.draft_asset}),
    "assetByCode": Probe("query($c: String!) { assetByCode(resourceCode: $c) { id } }",
                         lambda w: {"c": w.asset_entry(w.draft_asset)["resource_code"]}),
    "reviewQueue": Probe("query { reviewQueue { id } }",
                         judge=_has("id", lambda w, v: w.submitted_asset)),
    "myOrganisations": Probe("query { myOrganisations { id } }", judge=_has("id", lambda w, v: w.org_a)),
    "myOrganisation": Probe("query { myOrganisation { id } }",
                            judge=lambda value, w, v: value is not None and value["id"] == w.org_a),
    "apiKeys": Probe("query($o: ID) { apiKeys(organisationId: $o) { id } }", lambda w: {"o": w.org_a}),
    "notifications": Probe("query($o: ID) { notifications(organisationId: $o) { id } }",
                           lambda w: {"o": w.org_a}),
    "subscriptions": Probe("query($o: ID) { subscriptions(organisationId: $o) { id } }",
                           lambda w: {"o": w.org_a},
                           judge=_has("id", lambda w, v: w.subscription_a)),
    "applications": Probe("query($o: ID) { applications(organisationId: $o) { id } }",
                          lambda w: {"o": w.org_a}, judge=_has("id", lambda w, v: w.application_a)),
    "usage": Probe("query($o: ID) { usage(organisationId: $o) { subscriptionId } }",
                   lambda w: {"o": w.org_a},
                   judge=_has("subscriptionId", lambda w, v: w.subscription_a)),
    "usageReport": Probe("query($o: ID, $from: Date!, $to: Date!) { usageReport(fromDay: $from, "
                         "toDay: $to, organisationId: $o) { organisationId } }",
                         lambda w: {"o": w.org_a, **_days()}),
    "usageByAsset": Probe("query($from: Date!, $to: Date!) { usageByAsset(fromDay: $from, toDay: $to) "
                          "{ assetId } }", lambda w: _days(),
                          judge=_has("assetId", lambda w, v: w.conditional_asset)),
    "usageByDepartment": Probe("query($from: Date!, $to: Date!) { usageByDepartment(fromDay: $from, "
                               "toDay: $to) { departmentId } }", lambda w: _days(),
                               judge=_has("departmentId", lambda w, v: w.dept_x)),
    "invoices": Probe("query($o: ID!) { invoices(organisationId: $o) { id } }",
                      lambda w: {"o": w.org_a}, judge=lambda value, w, v: value is not None),
    "billingStatus": Probe("query($s: ID!) { billingStatus(subscriptionId: $s) { subscriptionId } }",
                           lambda w: {"s": w.subscription_a},
                           judge=lambda value, w, v: value is not None
                           and value["subscriptionId"] == v["s"]),
    "rows": Probe("query($a: ID!) { rows(assetId: $a, first: 5) { rows } }",
                  lambda w: {"a": w.conditional_asset},
                  judge=lambda value, w, v: value is not None and len(value["rows"]) > 0),
    "signUp": Probe(f"mutation($e: String!) {{ signUp(email: $e, name: \"新人\", password: \"{PASSWORD}\") "
                    f"{{ token {ERRORS} }} }}", lambda w: {"e": f"new{w.n()}@d.example"},
                    judge=_payload("token")),
    "login": Probe(f"mutation {{ login(username: \"login@c.example\", password: \"{PASSWORD}\") "
                   f"{{ token {ERRORS} }} }}", judge=_payload("token")),
    "switchOrganisation": Probe(f"mutation($o: ID!) {{ switchOrganisation(organisationId: $o) "
                                f"{{ token {ERRORS} }} }}", lambda w: {"o": w.org_a},
                                judge=_payload("token")),
    "registerOrganisation": Probe(f"mutation($c: String!) {{ registerOrganisation(creditCode: $c, "
                                  f"name: \"新公司\") {{ organisation {{ id }} {ERRORS} }} }}",
                                  lambda w: {"c": credit_code(w.n())}, judge=_payload("organisation")),
    "addOrganisationMember": Probe(
        f"mutation($o: ID!, $e: String!) {{ addOrganisationMember(organisationId: $o, email: $e) "
        f"{{ organisation {{ id }} {ERRORS} }} }}",
        lambda w: {"o": w.org_a, "e": w.bank.members.sign_up(
            email=f"join{w.n()}@d.example", name="新人", password=PASSWORD).email},
        judge=_payload("organisation")),
    "inviteMember": Probe(f"mutation($o: ID!, $e: String!) {{ inviteMember(organisationId: $o, email: $e) "
                          f"{{ organisation {{ id }} {ERRORS} }} }}",
                          lambda w: {"o": w.org_a, "e": f"invited{w.n()}@d.example"},
                          judge=_payload("organisation")),
    # an invitation of A addressed to someone else: nobody but its addressee may take it
    "acceptInvitation": Probe(f"mutation($o: ID!) {{ acceptInvitation(organisationId: $o) "
                              f"{{ organisation {{ id }} {ERRORS} }} }}",
                              lambda w: {"o": str(w.bank.organisations.invite(
                                  w.org_a, email=f"other{w.n()}@d.example",
                                  by=w.actors["ownerA"]).id)},
                              judge=_payload("organisation")),
    "createApiKey": Probe(f"mutation($o: ID) {{ createApiKey(organisationId: $o, name: \"k\", "
                          f"scopes: [\"rows:read\"]) {{ plaintext {ERRORS} }} }}",
                          lambda w: {"o": w.org_a}, judge=_payload("plaintext")),
    "revokeApiKey": Probe(f"mutation($k: ID!) {{ revokeApiKey(keyId: $k) {{ apiKey {{ id revoked }} "
                          f"{ERRORS} }} }}", lambda w: {"k": w.key_of_a()},
                          judge=lambda value, w, v: bool(value["apiKey"] and value["apiKey"]["revoked"])),
    "startCheckout": Probe(f"mutation($s: ID!) {{ startCheckout(subscriptionId: $s) {{ url {ERRORS} }} }}",
                           lambda w: {"s": w.subscription_of_a(monthly_fee_fen=9900)},
                           judge=_payload("url")),
    "openBillingPortal": Probe(f"mutation($o: ID!) {{ openBillingPortal(organisationId: $o) "
                               f"{{ url {ERRORS} }} }}", lambda w: {"o": w.org_a}, judge=_payload("url")),
    "requestExport": Probe(f"mutation($a: ID!) {{ requestExport(assetId: $a, format: CSV) "
                           f"{{ export {{ path }} {ERRORS} }} }}", lambda w: {"a": w.conditional_asset},
                           judge=_payload("export")),
    "createLicenceTemplate": Probe(
        f"mutation($k: String!) {{ createLicenceTemplate(key: $k, name: \"新许可\", kind: OPEN, "
        f"text: \"条款\", summary: \"摘要\") {{ licenceTemplate {{ id }} {ERRORS} }} }}",
        lambda w: {"k": f"new-{w.n()}"}, judge=_payload("licenceTemplate")),
    "publishLicenceTerms": Probe(
        f"mutation($t: ID!) {{ publishLicenceTerms(templateId: $t, text: \"新条款\", summary: \"新摘要\") "
        f"{{ licenceTemplate {{ id }} {ERRORS} }} }}", lambda w: {"t": w.terms_template},
        judge=_payload("licenceTemplate")),
    "definePlan": Probe(
        f"mutation($a: ID!, $t: ID!, $n: String!) {{ definePlan(assetId: $a, name: $n, "
        f"licenceTemplateId: $t, price: {{}}, quotas: {{rowsPerMonth: 100}}, overage: BLOCK, "
        f"fieldTier: MASKED) {{ plan {{ id }} {ERRORS} }} }}",
        lambda w: {"a": w.open_asset, "t": w.template, "n": f"新套餐{w.n()}"}, judge=_payload("plan")),
    "retirePlan": Probe(f"mutation($p: ID!) {{ retirePlan(planId: $p, reason: \"下架\") "
                        f"{{ plan {{ id }} {ERRORS} }} }}", lambda w: {"p": w.plan()},
                        judge=_payload("plan")),
    "subscribe": Probe(f"mutation($p: ID!, $o: ID) {{ subscribe(planId: $p, acceptedTermsVersion: 1, "
                       f"organisationId: $o) {{ subscription {{ id }} {ERRORS} }} }}",
                       lambda w: {"p": w.plan(), "o": w.org_a}, judge=_payload("subscription")),
    "revokeSubscription": Probe(f"mutation($s: ID!) {{ revokeSubscription(subscriptionId: $s, "
                                f"reason: \"违约\") {{ subscription {{ id }} {ERRORS} }} }}",
                                lambda w: {"s": w.subscription_of_a()}, judge=_payload("subscription")),
    "submitAccessApplication": Probe(
        f"mutation($a: ID!, $o: ID) {{ submitAccessApplication(assetId: $a, organisationId: $o, "
        f"purpose: \"研究\", scenario: \"场景\", securityCommitment: \"承诺\") "
        f"{{ application {{ id }} {ERRORS} }} }}", lambda w: {"a": w.conditional_asset, "o": w.org_a},
        judge=_payload("application")),
    "approveAccessApplication": Probe(
        f"mutation($id: ID!) {{ approveAccessApplication(applicationId: $id, scope: \"研究\", "
        f"periodEnd: \"2099-12-31\") {{ application {{ id }} {ERRORS} }} }}",
        lambda w: {"id": w.application_of_a()}, judge=_payload("application")),
    "rejectAccessApplication": Probe(
        f"mutation($id: ID!) {{ rejectAccessApplication(applicationId: $id, reasons: [\"用途不明\"]) "
        f"{{ application {{ id }} {ERRORS} }} }}",
        lambda w: {"id": w.application_of_a()}, judge=_payload("application")),
    "openStaffAccount": Probe(
        "mutation($u: String!) { openStaffAccount(username: $u, name: \"新员\", role: REVIEWER, "
        f"password: \"{PASSWORD}\") {{ account {{ id }} {ERRORS} }} }}",
        lambda w: {"u": f"staff{w.n()}"}, judge=_payload("account")),
    "registerDepartment": Probe(
        f"mutation($c: String!) {{ registerDepartment(code: $c, name: \"新部门\") "
        f"{{ department {{ id }} {ERRORS} }} }}", lambda w: {"c": credit_code(w.n(), "11341500")},
        judge=_payload("department")),
    "registerAsset": Probe(
        f"mutation($m: AssetMetadataInput!, $d: ID) {{ registerAsset(metadata: $m, departmentId: $d) "
        f"{{ asset {{ id }} {ERRORS} }} }}",
        lambda w: {"m": {**METADATA_INPUT, "name": f"登记{w.n()}"}, "d": w.dept_x},
        judge=_payload("asset")),
    "updateAssetMetadata": Probe(
        f"mutation($a: ID!, $m: AssetMetadataInput!) {{ updateAssetMetadata(assetId: $a, metadata: $m) "
        f"{{ asset {{ id }} {ERRORS} }} }}",
        lambda w: {"a": w.draft_asset, "m": {**METADATA_INPUT, "name": f"改名{w.n()}"}},
        judge=_payload("asset")),
    "uploadVersion": Probe(
        f"mutation($a: ID!, $file: Upload!) {{ uploadVersion(assetId: $a, file: $file, format: CSV) "
        f"{{ version {{ number }} {ERRORS} }} }}", lambda w: {"a": w.draft_asset},
        judge=_payload("version")),
    "submitForReview": Probe(f"mutation($a: ID!) {{ submitForReview(assetId: $a, version: 1) "
                             f"{{ asset {{ id }} {ERRORS} }} }}", lambda w: {"a": w.asset_of_x("draft")},
                             judge=_payload("asset")),
    "approveAsset": Probe(f"mutation($a: ID!) {{ approveAsset(assetId: $a, reason: \"核查通过\") "
                          f"{{ asset {{ id }} {ERRORS} }} }}", lambda w: {"a": w.asset_of_x("submitted")},
                          judge=_payload("asset")),
    "rejectAsset": Probe(f"mutation($a: ID!) {{ rejectAsset(assetId: $a, reasons: [\"缺字段\"]) "
                         f"{{ asset {{ id }} {ERRORS} }} }}", lambda w: {"a": w.asset_of_x("submitted")},
                         judge=_payload("asset")),
    "clearPersonalColumn": Probe(
        f"mutation($a: ID!) {{ clearPersonalColumn(assetId: $a, column: \"联系电话\", reason: \"单位座机\") "
        f"{{ asset {{ id }} {ERRORS} }} }}", lambda w: {"a": w.asset_of_x("submitted", with_phones=True)},
        judge=_payload("asset")),
    "publishAsset": Probe(f"mutation($a: ID!) {{ publishAsset(assetId: $a, version: 1) "
                          f"{{ asset {{ id }} {ERRORS} }} }}", lambda w: {"a": w.asset_of_x("approved")},
                          judge=_payload("asset")),
    "withdrawAsset": Probe(f"mutation($a: ID!) {{ withdrawAsset(assetId: $a, reason: \"停更\") "
                           f"{{ asset {{ id }} {ERRORS} }} }}", lambda w: {"a": w.asset_of_x("published")},
                           judge=_payload("asset")),
}

DENIED_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"}
DENIED_PAYLOAD_CODES = {"NOT_PERMITTED", "SELF_REVIEW", "FORBIDDEN", "NOT_FOUND"}


def _request(world: World, role: str, operation: str) -> tuple[Any, dict]:
    probe = PROBES[operation]
    variables = probe.variables(world)
    headers = world.headers[role]
    if operation == "uploadVersion":  # a GraphQL multipart request
        operations = {"query": probe.document, "variables": {**variables, "file": None}}
        response = world.http.post(
            "/graphql", data={"operations": json.dumps(operations),
                              "map": json.dumps({"0": ["variables.file"]})},
            files={"0": ("rows.csv", CSV, "text/csv")}, headers={**headers, "GraphQL-Preflight": "1"})
    else:
        response = world.http.post("/graphql", json={"query": probe.document, "variables": variables},
                                   headers=headers)
    return response, variables


def outcome(world: World, role: str, operation: str) -> str:
    """``allowed``, ``denied``, or what went wrong (which fails the cell either way)."""
    response, variables = _request(world, role, operation)
    if response.status_code >= 500:
        return f"server error {response.status_code}: {response.text[:300]}"
    body = response.json()
    errors = body.get("errors") or []
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    if None in codes:
        return f"an error without extensions.code: {errors}"
    if errors:
        return "denied" if codes <= DENIED_CODES else f"unexpected errors: {errors}"
    value = body["data"][operation]
    if isinstance(value, dict) and value.get("errors"):
        payload_codes = {error["code"] for error in value["errors"]}
        return "denied" if payload_codes & DENIED_PAYLOAD_CODES else "allowed"
    return "allowed" if PROBES[operation].judge(value, world, variables) else "denied"


CELLS = [(operation, role) for operation in MATRIX for role in ROLES]


def test_every_operation_has_a_row() -> None:
    operations = schema_operations()
    missing = sorted(operations - set(MATRIX))
    assert not missing, "\n".join(f"operation {op} has no row in the authorisation matrix"
                                  for op in missing)
    stale = sorted(set(MATRIX) - operations)
    assert not stale, f"rows for operations the schema no longer has: {stale}"
    assert set(PROBES) == set(MATRIX), "every row needs a probe (how to ask), and only rows"


def test_every_role_is_allowed_something_and_denied_something() -> None:
    for role in ROLES:
        column = [MATRIX[op][role] for op in MATRIX]
        assert any(column) and not all(column), role


@pytest.mark.parametrize("operation, role", CELLS, ids=[f"{op}-{role}" for op, role in CELLS])
def test_the_cell_answers_as_the_matrix_says(world: World, operation: str, role: str) -> None:
    expected = "allowed" if MATRIX[operation][role] else "denied"
    assert outcome(world, role, operation) == expected


# ---- "not yours" is "not there" ----------------------------------------------------------------

BILLING_LOOKUPS: dict[str, tuple[str, Callable[[World], str]]] = {
    "billingStatus": ("s", lambda w: w.subscription_a),
    "startCheckout": ("s", lambda w: w.subscription_of_a(monthly_fee_fen=9900)),
    "invoices": ("o", lambda w: w.org_a),
    "openBillingPortal": ("o", lambda w: w.org_a),
}


@pytest.mark.parametrize("operation", BILLING_LOOKUPS)
def test_another_organisations_billing_is_not_found_exactly_like_a_missing_one(
        world: World, operation: str) -> None:
    """Organisation ids are uuid5 of public credit codes: an answer that differs between "not
    yours" and "not there", or names the organisation, tells a stranger who subscribes to what."""
    name, target = BILLING_LOOKUPS[operation]
    document = PROBES[operation].document

    def ask(value: str) -> tuple[int, str]:
        # One request id for both probes (the server echoes it), so the answers compare byte
        # for byte.
        response = world.http.post("/graphql", json={"query": document, "variables": {name: value}},
                                   headers={**world.headers["memberB"], "X-Request-Id": "probe"})
        return response.status_code, response.text.replace(value, "<id>")

    theirs, missing = ask(target(world)), ask(str(uuid.uuid4()))

    assert theirs == missing
    assert "甲公司" not in theirs[1] and "NOT_FOUND" in theirs[1]
