"""An entitlements read model built by older code is replayed, never read half-right: access
applications were stored under the kind "application" until the name became
"access_application", and a store of that age must come back with them (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from marketplace.bootstrap import build
from marketplace.projections.entitlements_model import MODEL_VERSION
from marketplace.projections.postgres_entitlements import PostgresEntitlementsView
from marketplace.settings import Settings
from support.marketplace import Clock, member_with_organisation, set_up_market


def _age_sqlite(data_dir: Path, url: str | None) -> None:
    """Make the file look as the code before the rename left it: old kind, old version."""
    with sqlite3.connect(data_dir / "read-models" / "entitlements.sqlite3") as db:
        db.execute("UPDATE entitlement_docs SET kind = 'application' "
                   "WHERE kind = 'access_application'")
        db.execute("PRAGMA user_version = 2")
    db.close()


def _age_postgres(data_dir: Path, url: str | None) -> None:
    """The same in PostgreSQL, where the code before the rename kept no version at all."""
    import psycopg

    assert url is not None
    conninfo, _, schema = url.partition("?schema=")
    with psycopg.connect(conninfo, autocommit=True,
                         options=f"-c search_path={schema}") as conn:
        conn.execute("UPDATE entitlement_docs SET kind = 'application' "
                     "WHERE kind = 'access_application'")
        conn.execute("DROP TABLE entitlement_model")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest,
          tmp_path: Path) -> tuple[Settings, Callable[[Path, str | None], None]]:
    """Settings of a durable backend, and how to age its read model."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path), _age_sqlite
    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("postgres_schema")
    return Settings(data_dir=tmp_path, database_url=f"{url}?schema={schema}"), _age_postgres


def test_a_read_model_of_the_previous_version_is_replayed_with_access_applications(
        store: tuple[Settings, Callable[[Path, str | None], None]]) -> None:
    settings, age = store
    bank = build(settings, fast_hashing=True)
    try:
        bank.market.clock = Clock()
        market = set_up_market(bank)
        member, org = member_with_organisation(bank)
        application = bank.access_applications.submit_application(
            org, market.assets["conditional"], purpose="研究", scenario="科研",
            security_commitment="不外传", by=member)
        bank.entitlements_follower.catch_up()
        before = bank.entitlements_view.access_applications(organisation_id=org)
        assert [d["id"] for d in before] == [str(application.id)]
        last = bank.market.recorder.max_notification_id()
    finally:
        bank.close()
    age(Path(settings.data_dir), settings.database_url)

    bank = build(settings, fast_hashing=True)
    try:
        view = bank.entitlements_view
        assert view.position() == 0  # emptied: the follower replays the whole log
        bank.entitlements_follower.catch_up()
        assert view.position() == last
        assert view.access_applications(organisation_id=org) == before
        assert view.access_application(str(application.id)) == before[0]
        assert view.subscriptions_of(org) == [] and len(view.licence_templates()) == 3
    finally:
        bank.close()
    bank = build(settings, fast_hashing=True)  # a store of the current version is kept
    try:
        assert bank.entitlements_view.position() == last
        if isinstance(bank.entitlements_view, PostgresEntitlementsView):
            assert bank.entitlements_view.model_version() == MODEL_VERSION
    finally:
        bank.close()
