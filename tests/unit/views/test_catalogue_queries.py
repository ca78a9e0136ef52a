"""The catalogue view's rules of who sees what: statuses, departments, the review queue, and
what of an asset's history the staff concerned alone see. The read model is a fake that answers
by the query it is asked, so each test shows what the view asks for whom."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.actors import Actor, Role
from marketplace.projections.catalogue_view import CataloguePage, CatalogueQuery
from marketplace.views.catalogue import CatalogueQueries, CatalogueSearch
from marketplace.views.errors import InvalidQuery

TRANSPORT, ECOLOGY = "dep-transport", "dep-ecology"

ANONYMOUS = Actor("anonymous", "anonymous", Role.ANONYMOUS)
MEMBER = Actor("m1", "李明", Role.MEMBER, organisation_id="org-1")
ADMIN = Actor("a1", "管理员", Role.ADMIN)
REVIEWER = Actor("r1", "审核员", Role.REVIEWER, department_id=ECOLOGY)
TRANSPORT_PUBLISHER = Actor("p1", "交通局数据专员", Role.PUBLISHER, department_id=TRANSPORT)
ECOLOGY_PUBLISHER = Actor("p2", "环境局数据专员", Role.PUBLISHER, department_id=ECOLOGY)


def _entry(asset_id: str, status: str, department_id: str) -> dict[str, Any]:
    return {"id": asset_id, "resource_code": f"A01/{asset_id}", "status": status,
            "department_id": department_id}


ENTRIES = [
    _entry("bus", "published", TRANSPORT),
    _entry("taxi", "draft", TRANSPORT),
    _entry("roads", "submitted", TRANSPORT),
    _entry("air", "published", ECOLOGY),
    _entry("water", "submitted", ECOLOGY),
]


@dataclass
class FakeReadModel:
    """Filters by status and department like the real read models; remembers what it was asked."""

    entries: list[dict[str, Any]] = field(default_factory=lambda: [dict(e) for e in ENTRIES])
    asked: list[CatalogueQuery] = field(default_factory=list)

    def get(self, asset_id: str) -> dict[str, Any] | None:
        return next((e for e in self.entries if e["id"] == asset_id), None)

    def departments(self) -> list[dict[str, Any]]:
        return [{"id": TRANSPORT, "code": "1", "name": "交通局", "contact": None},
                {"id": ECOLOGY, "code": "2", "name": "生态环境局", "contact": None}]

    def search(self, query: CatalogueQuery) -> CataloguePage:
        self.asked.append(query)
        if query.after == "not-a-cursor":
            raise ValueError("the cursor is not one this catalogue gave out")
        found = [e for e in self.entries if e["status"] in query.statuses
                 and query.department_id in (None, e["department_id"])
                 and query.text in e["resource_code"]]
        return CataloguePage(entries=found[:query.first], total=len(found), end_cursor=None,
                             has_next_page=len(found) > query.first)


@dataclass(frozen=True)
class Recorded:
    position: int
    event: str
    at: datetime
    by: dict[str, Any] | None
    details: dict[str, Any]


AT = datetime(2026, 3, 2, tzinfo=UTC)
HISTORY = [
    Recorded(1, "Registered", AT, {"name": "交通局数据专员", "role": "publisher"},
             {"originator_topic": "domain.asset:DataAsset", "resource_code": "A01/bus"}),
    Recorded(2, "VersionAdded", AT, None, {"version": {
        "number": 1, "table": "v_bus_x1",
        "quality": {"score": 90, "columns": {
            "phone": {"invalid": 1, "invalid_samples": ["13800000000"]}, "odd": "kept"}}}}),
]


@pytest.fixture
def read_model() -> FakeReadModel:
    return FakeReadModel()


@pytest.fixture
def queries(read_model: FakeReadModel) -> CatalogueQueries:
    return CatalogueQueries(read_model, lambda asset_id: list(HISTORY))  # type: ignore[arg-type]


def _ids(entries: list[Any]) -> list[str]:
    return [e["id"] for e in entries]


@pytest.mark.parametrize("actor", [ANONYMOUS, MEMBER])
def test_the_public_sees_only_published_assets_whatever_it_asks(
        queries: CatalogueQueries, read_model: FakeReadModel, actor: Actor) -> None:
    page = queries.search(actor, CatalogueSearch(statuses=("draft", "submitted", "published")))
    assert read_model.asked[-1].statuses == ("published",)
    assert _ids(page.entries) == ["bus", "air"]


def test_no_statuses_asked_means_published(queries: CatalogueQueries,
                                           read_model: FakeReadModel) -> None:
    queries.search(ADMIN, CatalogueSearch(statuses=()))
    assert read_model.asked[-1].statuses == ("published",)


@pytest.mark.parametrize("actor", [ADMIN, REVIEWER])
def test_administrators_and_reviewers_see_the_statuses_they_ask_for_in_every_department(
        queries: CatalogueQueries, actor: Actor) -> None:
    page = queries.search(actor, CatalogueSearch(statuses=("submitted",)))
    assert _ids(page.entries) == ["roads", "water"]


def test_a_publisher_asking_for_unpublished_statuses_sees_their_own_department(
        queries: CatalogueQueries, read_model: FakeReadModel) -> None:
    page = queries.search(TRANSPORT_PUBLISHER, CatalogueSearch(
        statuses=("draft", "submitted"), department_id=ECOLOGY))
    assert read_model.asked[-1].department_id == TRANSPORT  # forced, whatever was asked
    assert _ids(page.entries) == ["taxi", "roads"]


def test_a_publisher_browsing_published_assets_sees_every_department(
        queries: CatalogueQueries) -> None:
    page = queries.search(TRANSPORT_PUBLISHER, CatalogueSearch())
    assert _ids(page.entries) == ["bus", "air"]


def test_the_search_text_is_cut_at_100_characters(queries: CatalogueQueries,
                                                 read_model: FakeReadModel) -> None:
    queries.search(ANONYMOUS, CatalogueSearch(text="公" * 150))
    assert read_model.asked[-1].text == "公" * 100


def test_a_cursor_the_catalogue_did_not_give_out_is_an_invalid_query(
        queries: CatalogueQueries) -> None:
    with pytest.raises(InvalidQuery, match="not one this catalogue gave out"):
        queries.search(ANONYMOUS, CatalogueSearch(after="not-a-cursor"))


@pytest.mark.parametrize(("actor", "sees_draft"), [
    (ANONYMOUS, False), (MEMBER, False), (ECOLOGY_PUBLISHER, False),
    (TRANSPORT_PUBLISHER, True), (REVIEWER, True), (ADMIN, True)])
def test_an_unpublished_asset_is_there_only_for_the_staff_concerned(
        queries: CatalogueQueries, actor: Actor, sees_draft: bool) -> None:
    assert queries.asset(actor, "bus") is not None  # published: everyone
    assert (queries.asset(actor, "taxi") is not None) is sees_draft
    assert (queries.asset_by_code(actor, "A01/taxi") is not None) is sees_draft
    assert queries.asset(actor, "missing") is None


def test_an_asset_by_code_is_looked_up_in_every_status(queries: CatalogueQueries,
                                                       read_model: FakeReadModel) -> None:
    assert queries.asset_by_code(ANONYMOUS, "A01/bus")["id"] == "bus"  # type: ignore[index]
    assert set(read_model.asked[-1].statuses) == {
        "draft", "submitted", "approved", "rejected", "published", "withdrawn"}


@pytest.mark.parametrize(("actor", "queued"), [
    (ANONYMOUS, []), (MEMBER, []), (TRANSPORT_PUBLISHER, []),
    (ADMIN, ["roads", "water"]),
    (REVIEWER, ["roads"]),  # an ecology reviewer never reviews ecology's own assets
])
def test_the_review_queue_holds_other_departments_submitted_assets_for_reviewers(
        queries: CatalogueQueries, actor: Actor, queued: list[str]) -> None:
    assert _ids(queries.review_queue(actor)) == queued


def test_departments_are_public(queries: CatalogueQueries) -> None:
    assert [d["id"] for d in queries.departments()] == [TRANSPORT, ECOLOGY]
    assert queries.department(ECOLOGY)["name"] == "生态环境局"  # type: ignore[index]
    assert queries.department("missing") is None


@pytest.mark.parametrize("actor", [ADMIN, REVIEWER, TRANSPORT_PUBLISHER])
def test_the_staff_concerned_see_the_whole_history(queries: CatalogueQueries,
                                                   read_model: FakeReadModel, actor: Actor) -> None:
    history = queries.history(actor, read_model.get("bus"))  # type: ignore[arg-type]
    assert [line.details for line in history] == [e.details for e in HISTORY]
    assert [(line.position, line.event, line.at, line.by) for line in history] == [
        (e.position, e.event, e.at, e.by) for e in HISTORY]


@pytest.mark.parametrize("actor", [ANONYMOUS, MEMBER, ECOLOGY_PUBLISHER])
def test_anyone_else_sees_the_history_without_internals_or_sample_cells(
        queries: CatalogueQueries, read_model: FakeReadModel, actor: Actor) -> None:
    registered, version_added = queries.history(actor, read_model.get("bus"))  # type: ignore[arg-type]
    assert registered.details == {"resource_code": "A01/bus"}
    assert registered.by == {"name": "交通局数据专员", "role": "publisher"}
    assert version_added.details == {"version": {"number": 1, "quality": {"score": 90, "columns": {
        "phone": {"invalid": 1}, "odd": "kept"}}}}
    # The recorded events themselves are left as they were.
    assert "invalid_samples" in HISTORY[1].details["version"]["quality"]["columns"]["phone"]
