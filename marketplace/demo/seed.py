"""Seed an empty data bank with the Lu'an demo: departments, staff, and published assets with
generated rows, all through the same use cases people use (so the log tells the demo's story)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from domain.actors import Actor, Role
from domain.api_key import SCOPES
from domain.identifiers import org_code_check_char, uscc_check_char
from marketplace.demo.assets import ASSETS, ASSETS_BY_KEY, CLEARANCES
from marketplace.demo.departments import DEPARTMENTS
from marketplace.demo.rows import write_csv

if TYPE_CHECKING:
    from marketplace.bootstrap import DataBank

DEMO_PASSWORD = "luan-demo-2026"
ADMIN = "admin"
REVIEWER = "reviewer"
MEMBER_EMAIL = "demo@startup.example"
STARTUP_NAME = "六安数智科技有限公司"
API_KEY_FILE = "demo-api-key.txt"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    department: str | None


def startup_credit_code() -> str:
    """The demo startup's unified social credit code: a company (91) of 金安区 (341502)."""
    body = "MA2N0001"
    head = "91341502" + body + org_code_check_char(body)
    return head + uscc_check_char(head)


def demo_api_key(bank: "DataBank") -> str | None:
    """The demo member's API key, kept (0600) in the data directory by the seeding."""
    path = Path(bank.settings.data_dir) / API_KEY_FILE
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def publisher_username(department_key: str) -> str:
    return "pub-" + department_key.replace("_", "-")


def is_seeded(bank: "DataBank") -> bool:
    return bank.staff.find_by_username(ADMIN) is not None


def seed_demo(bank: "DataBank", *, work_dir: Path, enterprise_rows: int | None = None,
              progress: Callable[[str], None] = lambda _: None) -> list[DemoLogin]:
    """Seed once; a store that already has the demo administrator is left as it is."""
    logins = demo_logins()
    if is_seeded(bank):
        return logins
    staff, catalogue = bank.staff, bank.catalogue
    admin = staff.open_account(username=ADMIN, name="数据银行管理员", role=Role.ADMIN,
                               password=DEMO_PASSWORD, by=None).actor()
    department_ids: dict[str, str] = {}
    for dep in DEPARTMENTS:
        registered = catalogue.register_department(code=dep["code"], name=dep["name"],
                                                   contact=dep["contact"], by=admin)
        department_ids[dep["key"]] = str(registered.id)
    reviewer = staff.open_account(username=REVIEWER, name="开放审查员", role=Role.REVIEWER,
                                  password=DEMO_PASSWORD, by=admin).actor()
    publishers = {
        key: staff.open_account(username=publisher_username(key), name=f"{dep['name']}数据专员",
                                role=Role.PUBLISHER, password=DEMO_PASSWORD,
                                department_id=department_ids[key], by=admin).actor()
        for dep in DEPARTMENTS for key in [dep["key"]]
    }
    work_dir.mkdir(parents=True, exist_ok=True)
    published: dict[str, str] = {}
    for spec in ASSETS:
        publisher = publishers[spec["department"]]
        metadata = {k: v for k, v in spec.items() if k not in ("key", "department", "rows", "row_count")}
        asset = catalogue.register_asset(department_id=department_ids[spec["department"]],
                                         metadata=metadata, by=publisher)
        rows = enterprise_rows if spec["key"] == "enterprise_registry" and enterprise_rows else None
        path = write_csv(spec["key"], work_dir / f"{spec['key']}.csv", rows)
        with path.open("rb") as source:
            asset, version = catalogue.upload_version(str(asset.id), source, source_format="csv",
                                                      by=publisher)
        path.unlink()
        catalogue.submit_for_review(str(asset.id), version, by=publisher)
        if spec["opening"]["type"] == "not_open":
            progress(f"  {asset.resource_code} {spec['name']}: waiting for open review")
            continue  # left in the review queue: personal data that is not to be opened
        catalogue.approve(str(asset.id), reason="分类分级、敏感字段与负面清单核查通过", by=reviewer)
        for column, reason in CLEARANCES.get(spec["key"], {}).items():
            catalogue.clear_personal_column(str(asset.id), column, reason=reason, by=reviewer)
        catalogue.publish(str(asset.id), version, by=publisher)
        published[spec["key"]] = str(asset.id)
        progress(f"  {asset.resource_code} {spec['name']}: published, "
                 f"{asset.get_version(version)['row_count']:,} rows")
    bank.catalogue_follower.catch_up()
    _seed_marketplace(bank, admin, publishers["public_security"], published, progress)
    return logins


_LICENCES = (
    ("open-v1", "开放数据许可", "open",
     "被许可人可免费复制、分发、改编和商业使用本数据，须注明来源“六安市数据银行”；不得试图重新识别个人。",
     "免费使用，注明来源，不得重新识别个人。"),
    ("commercial-v1", "商业数据许可", "commercial",
     "被许可人按所选方案付费使用本数据，用于约定的商业目的；不得向第三方转让或转售原始数据。",
     "付费商用，不得转售原始数据。"),
    ("research-v1", "科研数据许可", "conditional_research",
     "经审核的申请人仅可在使用协议约定的范围与期限内将数据用于科研或公共服务，不得向第三方提供，期满删除。",
     "有条件开放：须经申请批准，限定用途与期限，不得外传。"),
)


def _seed_marketplace(bank: "DataBank", admin: Actor, police: Actor, published: dict[str, str],
                      progress: Callable[[str], None]) -> None:
    """Licences, plans, a startup with a member, subscriptions, an approved application and an
    API key — through the same use cases people use."""
    templates = {kind: str(bank.licensing.create_licence_template(key=key, name=name, kind=kind, text=text,
                                                           summary=summary, by=admin).id)
                 for key, name, kind, text, summary in _LICENCES}
    free_plans = []
    for key, asset_id in published.items():
        if ASSETS_BY_KEY[key]["opening"]["type"] == "unconditional":
            free_plans.append(bank.licensing.define_plan(
                asset_id=asset_id, name="免费版", licence_template_id=templates["open"], price={},
                quotas={"rows_per_month": 100_000, "calls_per_month": 10_000,
                        "rate_limit_per_minute": 60},
                overage="block", field_tier="masked", by=admin))
    if "enterprise_registry" in published:
        bank.licensing.define_plan(
            asset_id=published["enterprise_registry"], name="商业版",
            licence_template_id=templates["commercial"],
            price={"monthly_fee_fen": 29_900, "per_1k_rows_fen": 50},
            quotas={"rows_per_month": 5_000_000, "rate_limit_per_minute": 600},
            overage="bill", field_tier="full", by=admin)
    research = None
    if "population_extract" in published:
        research = bank.licensing.define_plan(
            asset_id=published["population_extract"], name="科研版",
            licence_template_id=templates["conditional_research"], price={},
            quotas={"rows_per_month": 50_000, "rate_limit_per_minute": 30},
            overage="block", field_tier="masked", by=admin)
    account = bank.members.sign_up(email=MEMBER_EMAIL, name="陈晓", password=DEMO_PASSWORD)
    organisation = bank.organisations.register_organisation(credit_code=startup_credit_code(),
                                                name=STARTUP_NAME, kind="startup",
                                                by=account.actor())
    org_id = str(organisation.id)
    member = bank.members.get_member(str(account.id)).actor()
    for plan in free_plans:
        bank.subscriptions.subscribe(org_id, str(plan.id), accepted_terms_version=1, by=member)
    if research is not None:
        application = bank.access_applications.submit_application(
            org_id, published["population_extract"], purpose="研究六安市人口结构与公共服务设施布局",
            scenario="与皖西学院合作的城市规划科研项目", security_commitment="仅项目组使用，不向第三方提供，项目结束后删除",
            by=member)
        period_end = (bank.market.clock() + timedelta(days=365)).date()
        bank.access_applications.approve_application(str(application.id), scope="人口结构与公共服务布局研究",
                                   period_end=period_end, by=police)
        bank.subscriptions.subscribe(org_id, str(research.id), accepted_terms_version=1,
                         application_id=str(application.id), by=member)
    _, plaintext = bank.api_keys.create_api_key(org_id, name="demo key", scopes=list(SCOPES), by=member)
    path = Path(bank.settings.data_dir) / API_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(plaintext + "\n")
    bank.entitlements_follower.catch_up()
    progress(f"  {STARTUP_NAME}: {len(free_plans) + (research is not None)} subscriptions, "
             f"member {MEMBER_EMAIL}, an API key")


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(ADMIN, "admin", None), DemoLogin(REVIEWER, "reviewer", None)] + [
        DemoLogin(publisher_username(d["key"]), "publisher", d["name"]) for d in DEPARTMENTS] + [
        DemoLogin(MEMBER_EMAIL, "member", STARTUP_NAME)]
