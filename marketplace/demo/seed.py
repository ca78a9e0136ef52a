"""Seed an empty data bank with the Lu'an demo: departments, staff, and published assets with
generated rows, all through the same use cases people use (so the log tells the demo's story)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from domain.actors import Role
from marketplace.demo.assets import ASSETS
from marketplace.demo.departments import DEPARTMENTS
from marketplace.demo.rows import write_csv

if TYPE_CHECKING:
    from marketplace.bootstrap import DataBank

DEMO_PASSWORD = "luan-demo-2026"
ADMIN = "admin"
REVIEWER = "reviewer"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    department: str | None


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
        catalogue.publish(str(asset.id), version, by=publisher)
        progress(f"  {asset.resource_code} {spec['name']}: published, "
                 f"{asset.get_version(version)['row_count']:,} rows")
    bank.catalogue_follower.catch_up()
    return logins


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(ADMIN, "admin", None), DemoLogin(REVIEWER, "reviewer", None)] + [
        DemoLogin(publisher_username(d["key"]), "publisher", d["name"]) for d in DEPARTMENTS]
