"""A published asset of people (a masked phone, a dropped identity number, plain columns beside
them) offered under a masked and a full plan, with one API key per plan: the world the tests of
the access path's query rules attack."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from starlette.testclient import TestClient

from domain.metering import period_of
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.api import operation
from support.catalogue import sample_metadata
from support.marketplace import ADMIN, REVIEWER, Clock, member_with_organisation, set_up_market

INDUSTRIES = ("制造业", "批发和零售业", "信息技术", "餐饮业")
PHONE = "电话"  # masked under the masked tier
ID_NUMBER = "身份证号"  # dropped under the masked tier
PEOPLE_ITEMS = (("编号", "string", "none"), ("姓名", "string", "name"), (PHONE, "string", "phone"),
                (ID_NUMBER, "string", "id_number"), ("行业", "string", "none"),
                ("人数", "integer", "none"))


def phone_of(i: int) -> str:
    return f"138{i:08d}"


def people_lines(n: int) -> list[str]:
    lines = [",".join(name for name, _, _ in PEOPLE_ITEMS)]
    for i in range(1, n + 1):
        lines.append(f"P{i:06d},{'张王李赵'[i % 4]}{'晓明华'[i % 3]}{'伟芳'[i % 2]},{phone_of(i)},"
                     f"34150219900101{i % 10000:04d},{INDUSTRIES[i % 4]},{i % 17}")
    return lines


def publish(bank, publisher, *, name: str, items: Sequence[tuple[str, str, str]],
            lines: Sequence[str]) -> str:
    """Register, upload, review and publish an unconditionally open asset; its id."""
    catalogue = bank.catalogue
    metadata = sample_metadata(name=name, information_items=[
        {"name": n, "data_type": t, "description": "", "sensitivity": s, "key": k == 0}
        for k, (n, t, s) in enumerate(items)])
    asset = catalogue.register_asset(department_id=publisher.department_id, metadata=metadata,
                                     by=publisher)
    asset, number = catalogue.upload_version(str(asset.id), io.BytesIO(("\n".join(lines) + "\n").encode()),
                                             source_format="csv", by=publisher)
    catalogue.submit_for_review(str(asset.id), number, by=publisher)
    catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    catalogue.publish(str(asset.id), number, by=publisher)
    return str(asset.id)


@dataclass
class People:
    """The world: ``keys["masked"]``/``keys["full"]`` read under each plan."""

    http: TestClient
    bank: object
    clock: Clock
    market: object
    asset: str
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)
    subscriptions: dict[str, str] = field(default_factory=dict)
    members: dict[str, object] = field(default_factory=dict)

    def rows(self, key: str | None, **variables: object):
        """The documented ``Rows`` operation over HTTP (anonymous when ``key`` is None)."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.http.post("/graphql", json={"query": operation("Rows"), "variables": {
            "assetId": self.asset, **variables}}, headers=headers)

    def request_export(self, key: str | None, **variables: object):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.http.post("/graphql", json={"query": operation("RequestExport"), "variables": {
            "assetId": self.asset, **variables}}, headers=headers)

    def usage(self, tier: str = "masked") -> dict:
        """The live ledger counters (rows, calls) of the plan's subscription this month."""
        return self.bank.ledger.usage(self.subscriptions[tier], period_of(self.clock.now))


def people_world(*, rows: int = 300, quota: int = 100_000, rate_limit: int | None = None,
                 settings: Settings | None = None, name: str = "个体工商户经营者",
                 items: Sequence[tuple[str, str, str]] = PEOPLE_ITEMS,
                 lines: Sequence[str] | None = None) -> Iterator[People]:
    """A bank in memory serving the people asset; the masked plan drops ``身份证号`` and has
    ``quota`` rows a month and ``rate_limit`` calls a minute."""
    bank = build_in_memory(settings or Settings(escalation_interval_seconds=0))
    clock = Clock()
    bank.market.clock = bank.row_access.clock = clock
    market = set_up_market(bank)
    asset = publish(bank, market.publisher, name=name, items=items,
                    lines=people_lines(rows) if lines is None else lines)
    quotas: dict[str, int] = {"rows_per_month": quota}
    if rate_limit is not None:
        quotas["rate_limit_per_minute"] = rate_limit
    plans = {
        "masked": bank.licensing.define_plan(asset_id=asset, name="免费版", licence_template_id=market.templates["open"],
                                 price={}, quotas=quotas, overage="block", field_tier="masked",
                                 item_overrides={ID_NUMBER: "dropped"}
                                 if any(n == ID_NUMBER for n, _, _ in items) else None, by=ADMIN),
        "full": bank.licensing.define_plan(asset_id=asset, name="商业版", licence_template_id=market.templates["open"],
                               price={}, quotas={"rows_per_month": quota}, overage="block",
                               field_tier="full", by=ADMIN),
    }
    world = People(http=None, bank=bank, clock=clock, market=market, asset=asset)  # type: ignore[arg-type]
    for n, tier in enumerate(("masked", "full")):
        member, organisation = member_with_organisation(bank, email=f"{tier}@startup.example", n=41 + n)
        subscription = bank.subscriptions.subscribe(organisation, str(plans[tier].id), accepted_terms_version=1, by=member)
        record, plaintext = bank.api_keys.create_api_key(organisation, name=tier, scopes=["rows:read", "exports:read"],
                                              by=member)
        world.keys[tier], world.key_ids[tier] = plaintext, str(record.id)
        world.subscriptions[tier] = str(subscription.id)
        world.members[tier] = (member, organisation)
    bank.entitlements_follower.catch_up()
    bank.catalogue_follower.catch_up()
    with TestClient(create_app(bank)) as http:
        world.http = http
        yield world
