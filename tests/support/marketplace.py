"""Marketplace test data shared by every layer of the suite: a bank with published assets of
each open type, licence templates, and a member with an organisation."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from domain.actors import Actor, Role
from domain.identifiers import org_code_check_char, uscc_check_char
from support.catalogue import sample_metadata

ADMIN = Actor("admin", "管理员", Role.ADMIN)
REVIEWER = Actor("reviewer", "审查员", Role.REVIEWER)
PASSWORD = "luan-demo-2026"
CSV = "站点编号,站点名称,经度,纬度\nLA0001,政务中心,116.5078,31.7529\n".encode()
OPENINGS = {
    "unconditional": {"type": "unconditional", "condition": "", "legal_basis": ""},
    "conditional": {"type": "conditional", "condition": "科研用途，签订使用协议",
                    "legal_basis": "《中华人民共和国个人信息保护法》第十三条"},
    "not_open": {"type": "not_open", "condition": "",
                 "legal_basis": "《中华人民共和国个人信息保护法》第二十八条"},
}
# A Monday morning in Lu'an: five working days later is the next Monday (2026-03-09).
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def credit_code(n: int, head: str = "91341500") -> str:
    """A valid GB 32100 code (a company's, 91…) built around organisation code body ``n``."""
    body = f"{n:08d}"
    first17 = head + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


class Clock:
    """A settable clock for the market (``bank.market.clock``)."""

    def __init__(self, now: datetime = MONDAY) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Market:
    """What a marketplace test starts from (ids as strings)."""

    bank: object
    publisher: Actor
    assets: dict[str, str] = field(default_factory=dict)  # open type → asset id
    templates: dict[str, str] = field(default_factory=dict)  # kind → template id
    plans: dict[str, str] = field(default_factory=dict)  # open type → plan id


def publish_asset(bank, publisher: Actor, open_type: str, name: str) -> str:
    catalogue = bank.catalogue
    asset = catalogue.register_asset(department_id=publisher.department_id,
                                     metadata=sample_metadata(name=name, opening=OPENINGS[open_type]),
                                     by=publisher)
    asset, number = catalogue.upload_version(str(asset.id), io.BytesIO(CSV), source_format="csv",
                                             by=publisher)
    catalogue.submit_for_review(str(asset.id), number, by=publisher)
    catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    catalogue.publish(str(asset.id), number, by=publisher)
    return str(asset.id)


def set_up_market(bank) -> Market:
    """A department with three published assets (one per open type), the three licence
    templates, and a free plan on each asset (the conditional one under the research licence)."""
    department = bank.catalogue.register_department(
        code=credit_code(1, "11341500"), name="六安市交通运输局", contact="", by=ADMIN)
    publisher = Actor("pub1", "交通局数据专员", Role.PUBLISHER, str(department.id))
    market = Market(bank=bank, publisher=publisher)
    for open_type, name in (("unconditional", "公交站点"), ("conditional", "公交刷卡记录"),
                            ("not_open", "驾驶员名单")):
        market.assets[open_type] = publish_asset(bank, publisher, open_type, name)
    for kind, key, name in (("open", "open-v1", "开放数据许可"),
                            ("commercial", "commercial-v1", "商业数据许可"),
                            ("conditional_research", "research-v1", "科研数据许可")):
        template = bank.licensing.create_licence_template(key=key, name=name, kind=kind, text=f"{name}条款第1版",
                                              summary=f"{name}摘要", by=ADMIN)
        market.templates[kind] = str(template.id)
    template_of = {"unconditional": "open", "conditional": "conditional_research",
                   "not_open": "open"}
    for open_type, asset_id in market.assets.items():
        plan = bank.licensing.define_plan(asset_id=asset_id, name="免费版",
                              licence_template_id=market.templates[template_of[open_type]],
                              price={}, quotas={"rows_per_month": 10_000}, overage="block",
                              field_tier="masked", by=ADMIN)
        market.plans[open_type] = str(plan.id)
    return market


def member_with_organisation(bank, email: str = "li@startup.example", n: int = 7) -> tuple[Actor, str]:
    """Sign up a member who registers a startup; returns (member actor, organisation id)."""
    account = bank.members.sign_up(email=email, name="李明", password=PASSWORD)
    organisation = bank.organisations.register_organisation(credit_code=credit_code(n), name=f"六安数智科技{n}",
                                            kind="startup", by=account.actor())
    return bank.members.get_member(str(account.id)).actor(), str(organisation.id)
