"""Catalogue queries on every backend (issue 9): a NUL character in a search or a resource code
is bad input, never a server error (PostgreSQL refuses NUL in text), and an asset's history
shows internal table names and event topics to the staff concerned only."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from domain.actors import Actor, Role
from marketplace.bootstrap import DataBank, build, build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.catalogue import sample_metadata
from support.marketplace import ADMIN, CSV, REVIEWER, credit_code

HISTORY = "query($id: ID!) { asset(id: $id) { history { event details } } }"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DataBank]:
    settings = Settings(data_dir=tmp_path, escalation_interval_seconds=0)
    if request.param == "memory":
        built = build_in_memory(settings)
    elif request.param == "sqlite":
        built = build(settings, fast_hashing=True)
    else:
        url = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        built = build(Settings(data_dir=tmp_path, escalation_interval_seconds=0,
                               database_url=f"{url}?schema={schema}"), fast_hashing=True)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def published(bank: DataBank) -> tuple[DataBank, Actor, str]:
    department = bank.catalogue.register_department(code=credit_code(1, "11341500"), name="交通局",
                                                    contact="", by=ADMIN)
    publisher = Actor("pub1", "发布员", Role.PUBLISHER, str(department.id))
    catalogue = bank.catalogue
    asset = catalogue.register_asset(department_id=publisher.department_id,
                                     metadata=sample_metadata(), by=publisher)
    asset, number = catalogue.upload_version(str(asset.id), io.BytesIO(CSV), source_format="csv",
                                             by=publisher)
    catalogue.submit_for_review(str(asset.id), number, by=publisher)
    catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    catalogue.publish(str(asset.id), number, by=publisher)
    bank.catalogue_follower.catch_up()
    return bank, publisher, str(asset.id)


def _post(bank: DataBank, query: str, variables: dict, actor: Actor | None = None) -> dict:
    headers = {}
    if actor is not None:
        token, _ = bank.tokens.issue(subject=actor.user_id, name=actor.name, role=actor.role.value,
                                     department_id=actor.department_id)
        headers["Authorization"] = f"Bearer {token}"
    http = TestClient(create_app(bank, start_followers=False))  # no lifespan: the fixture closes
    response = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code in (200, 400), response.text
    return response.json()


@pytest.mark.parametrize("query, variables", [
    ("query($s: String) { catalogue(search: $s) { totalCount } }", {"s": "公交\x00站点"}),
    ("query($s: String) { catalogue(search: $s) { totalCount } }", {"s": "\x00"}),
    ("query($c: String!) { assetByCode(resourceCode: $c) { id } }", {"c": "2080010001\x00"}),
    ("query($c: String!) { assetByCode(resourceCode: $c) { id } }", {"c": "\x00\x00\x00"}),
])
def test_a_nul_character_in_catalogue_input_is_bad_user_input(published, query: str,
                                                              variables: dict) -> None:
    bank, _, _ = published
    body = _post(bank, query, variables)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in error["message"]
    assert "reference" not in error["message"]


def test_a_search_without_nul_still_finds_the_asset(published) -> None:
    bank, _, asset_id = published
    body = _post(bank, "query($s: String) { catalogue(search: $s) { nodes { id } } }", {"s": "公交"})
    assert body["data"]["catalogue"]["nodes"] == [{"id": asset_id}]


def _history_text(body: dict) -> str:
    return json.dumps(body["data"]["asset"]["history"], ensure_ascii=False)


@pytest.mark.parametrize("who", ["anonymous", "member", "publisher of another department"])
def test_the_public_history_hides_table_names_and_event_topics(published, who: str) -> None:
    bank, _, asset_id = published
    table = bank.catalogue.get_asset(asset_id).get_version(1)["table"]
    actor = {"anonymous": None,
             "member": Actor("m1", "成员", Role.MEMBER, organisation_id="o1"),
             "publisher of another department": Actor("pub9", "他人", Role.PUBLISHER, "another")}[who]
    body = _post(bank, HISTORY, {"id": asset_id}, actor)
    history = body["data"]["asset"]["history"]
    assert [h["event"] for h in history] == ["Registered", "VersionAdded", "SubmittedForReview",
                                             "Approved", "Published"]
    text = _history_text(body)
    assert table not in text and "v_" not in text
    assert "topic" not in text and "domain." not in text
    version = history[1]["details"]["version"]
    assert version["row_count"] == 1  # the facts a user needs stay


@pytest.mark.parametrize("who", ["admin", "reviewer", "publisher"])
def test_the_staff_concerned_see_table_names_and_event_topics(published, who: str) -> None:
    bank, publisher, asset_id = published
    table = bank.catalogue.get_asset(asset_id).get_version(1)["table"]
    actor = {"admin": ADMIN, "reviewer": REVIEWER, "publisher": publisher}[who]
    text = _history_text(_post(bank, HISTORY, {"id": asset_id}, actor))
    assert table in text and "originator_topic" in text
