"""One behaviour, every backend: the catalogue use cases on memory, SQLite files and PostgreSQL."""

from __future__ import annotations

import io
import threading

import pytest

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, NotApprovedError
from marketplace.bootstrap import DataBank
from marketplace.projections.catalogue_view import CatalogueQuery
from support.catalogue import sample_metadata
from support.marketplace import credit_code

ADMIN = Actor("admin", "管理员", Role.ADMIN)
REVIEWER = Actor("reviewer", "审查员", Role.REVIEWER)
CSV = "站点编号,站点名称,经度,纬度\nLA0001,政务中心,116.5078,31.7529\nLA0002,皖西学院,116.4862,31.7760\n".encode()



def _publisher(bank: DataBank, n: int = 1) -> Actor:
    department = bank.catalogue.register_department(code=credit_code(n, "11341500"), name=f"部门{n}", contact="", by=ADMIN)
    return Actor(f"pub{n}", f"发布员{n}", Role.PUBLISHER, str(department.id))


def _published(bank: DataBank) -> tuple[Actor, str]:
    publisher = _publisher(bank)
    asset = bank.catalogue.register_asset(department_id=publisher.department_id,
                                          metadata=sample_metadata(), by=publisher)
    asset, number = bank.catalogue.upload_version(str(asset.id), io.BytesIO(CSV), source_format="csv",
                                                  by=publisher)
    bank.catalogue.submit_for_review(str(asset.id), number, by=publisher)
    bank.catalogue.approve(str(asset.id), reason="ok", by=REVIEWER)
    bank.catalogue.publish(str(asset.id), number, by=publisher)
    return publisher, str(asset.id)


def test_a_published_asset_is_searchable_with_its_rows(bank: DataBank) -> None:
    _, asset_id = _published(bank)
    bank.catalogue_follower.catch_up()
    page = bank.catalogue_view.search(CatalogueQuery(text="公交"))
    assert [e["id"] for e in page.entries] == [asset_id]
    entry = page.entries[0]
    assert entry["versions"][0]["row_count"] == 2
    table = bank.catalogue.get_asset(asset_id).get_version(1)["table"]
    rows = bank.datastore.query(table, limit=10).rows
    assert [r["站点编号"] for r in rows] == ["LA0001", "LA0002"]


def test_the_history_tells_who_did_what_in_order(bank: DataBank) -> None:
    _, asset_id = _published(bank)
    history = bank.catalogue.history(asset_id)
    assert [h.event for h in history] == ["Registered", "VersionAdded", "SubmittedForReview",
                                          "Approved", "Published"]
    assert history[3].by["name"] == "审查员" and history[3].details["reason"] == "ok"


def test_a_refused_upload_leaves_no_table_and_no_event(bank: DataBank) -> None:
    publisher = _publisher(bank)
    asset = bank.catalogue.register_asset(department_id=publisher.department_id,
                                          metadata=sample_metadata(), by=publisher)
    before = bank.catalogue.recorder.max_notification_id()
    ragged = "站点编号,站点名称,经度,纬度\nLA0001,政务中心,116.5\n".encode()
    with pytest.raises(InvalidInputError, match="line 2"):
        bank.catalogue.upload_version(str(asset.id), io.BytesIO(ragged), source_format="csv", by=publisher)
    assert bank.catalogue.recorder.max_notification_id() == before
    assert bank.catalogue.get_asset(str(asset.id)).versions == []


def test_publishing_before_approval_changes_nothing(bank: DataBank) -> None:
    publisher = _publisher(bank)
    asset = bank.catalogue.register_asset(department_id=publisher.department_id,
                                          metadata=sample_metadata(), by=publisher)
    bank.catalogue.upload_version(str(asset.id), io.BytesIO(CSV), source_format="csv", by=publisher)
    before = bank.catalogue.recorder.max_notification_id()
    with pytest.raises(NotApprovedError):
        bank.catalogue.publish(str(asset.id), 1, by=publisher)
    assert bank.catalogue.recorder.max_notification_id() == before


def test_concurrent_registrations_get_distinct_consecutive_codes(bank: DataBank) -> None:
    publisher = _publisher(bank)
    codes: list[str] = []
    errors: list[BaseException] = []

    def register() -> None:
        try:
            for _ in range(5):
                asset = bank.catalogue.register_asset(department_id=publisher.department_id,
                                                      metadata=sample_metadata(), by=publisher)
                codes.append(asset.resource_code)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(codes) == [f"208001/{n:06d}" for n in range(1, 21)]


def test_a_rebuilt_catalogue_equals_the_one_built_as_events_came(bank: DataBank) -> None:
    _published(bank)
    bank.catalogue_follower.catch_up()
    query = CatalogueQuery(statuses=("draft", "published"), first=50)
    before = bank.catalogue_view.search(query).entries
    applied = bank.catalogue_follower.rebuild()
    assert applied == bank.catalogue.recorder.max_notification_id()
    assert bank.catalogue_view.search(query).entries == before
