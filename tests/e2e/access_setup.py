"""A subscribed organisation on PostgreSQL, set up through the services (not over HTTP), for the
end-to-end tests of the data access path: one published asset of many rows, one plan, one
subscription, one API key. The servers are started afterwards on the same database URL."""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from domain.actors import Actor, Role
from support.catalogue import sample_metadata
from support.marketplace import ADMIN, PASSWORD, REVIEWER, credit_code

ROWS_QUERY = """query Rows($assetId: ID!, $first: Int, $after: String) {
  rows(assetId: $assetId, first: $first, after: $after) { rows pageInfo { endCursor hasNextPage } }
}"""


@dataclass(frozen=True)
class Subscribed:
    """What the tests need to know of the setup (ids as strings, the key in plaintext)."""

    database_url: str
    asset_id: str
    asset_rows: int
    subscription_id: str
    organisation_id: str
    member: Actor
    api_key: str
    api_key_id: str


def database_url(postgres_url: str, schema: str) -> str:
    separator = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{separator}schema={schema}"


@contextmanager
def bank_on(url: str, data_dir: Path) -> Iterator:
    """A data bank in the test process on the servers' database (no background threads)."""
    from marketplace.bootstrap import build
    from marketplace.settings import Settings

    bank = build(Settings(data_dir=data_dir, database_url=url), create_tables=False,
                 fast_hashing=True)
    try:
        yield bank
    finally:
        bank.close()


def _csv(rows: int) -> bytes:
    lines = ["站点编号,站点名称,经度,纬度"]
    lines += [f"LA{n:06d},站点{n},{116 + n % 1000 / 1000:.4f},{31 + n % 997 / 1000:.4f}"
              for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def subscribe_with_key(url: str, data_dir: Path, *, rows_per_month: int,
                       asset_rows: int = 20_000) -> Subscribed:
    """A department publishing an asset of ``asset_rows`` rows, an open licence template, a free
    plan of ``rows_per_month`` (no rate limit, overage blocked), an organisation with a member,
    its subscription and an API key with ``rows:read``."""
    with bank_on(url, data_dir) as bank:
        catalogue = bank.catalogue
        department = catalogue.register_department(code=credit_code(1, "11341500"),
                                                   name="六安市交通运输局", contact="", by=ADMIN)
        publisher = Actor("pub1", "交通局数据专员", Role.PUBLISHER, str(department.id))
        asset = catalogue.register_asset(department_id=str(department.id),
                                         metadata=sample_metadata(name="公交站点（全量）"),
                                         by=publisher)
        asset_id = str(asset.id)
        asset, number = catalogue.upload_version(asset_id, io.BytesIO(_csv(asset_rows)),
                                                 source_format="csv", by=publisher)
        assert asset.get_version(number)["row_count"] == asset_rows
        catalogue.submit_for_review(asset_id, number, by=publisher)
        catalogue.approve(asset_id, reason="核查通过", by=REVIEWER)
        catalogue.publish(asset_id, number, by=publisher)

        template = bank.licensing.create_licence_template(key="open-v1", name="开放数据许可", kind="open",
                                              text="开放数据许可条款第1版", summary="摘要", by=ADMIN)
        plan = bank.licensing.define_plan(asset_id=asset_id, name="免费版",
                              licence_template_id=str(template.id), price={},
                              quotas={"rows_per_month": rows_per_month,
                                      "rate_limit_per_minute": None},
                              overage="block", field_tier="full", by=ADMIN)
        account = bank.members.sign_up(email="li@startup.example", name="李明", password=PASSWORD)
        organisation = bank.organisations.register_organisation(credit_code=credit_code(7), name="六安数智科技",
                                                kind="startup", by=account.actor())
        member = bank.members.get_member(str(account.id)).actor()
        subscription = bank.subscriptions.subscribe(str(organisation.id), str(plan.id),
                                    accepted_terms_version=template.current_version, by=member)
        assert subscription.entitlement().ok, subscription.status
        key, plaintext = bank.api_keys.create_api_key(str(organisation.id), name="e2e", scopes=["rows:read"],
                                           by=member)
        return Subscribed(database_url=url, asset_id=asset_id, asset_rows=asset_rows,
                          subscription_id=str(subscription.id),
                          organisation_id=str(organisation.id), member=member,
                          api_key=plaintext, api_key_id=str(key.id))


def worker_pids(supervisor_pid: int) -> list[int]:
    """The uvicorn worker processes under ``databank serve --workers N`` (Linux /proc)."""
    pids: list[int] = []
    for children in Path(f"/proc/{supervisor_pid}/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except FileNotFoundError:
                continue
            if b"resource_tracker" not in cmdline:
                pids.append(int(pid))
    return sorted(set(pids))


def unfed_records(postgres_url: str, schema: str) -> int:
    """Usage records the Metering feed has not yet turned into meter events."""
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{schema}".metering_records '
                            "WHERE NOT fed").fetchone()[0]
