"""``databank verify`` (issue 11): the event log verifies. Every aggregate of every event store is
replayed and compared with the read models; a clean store says so and exits 0, and any
difference — a read model edited behind the log's back, a version table no event names — is a
line naming the store, the document's id and the field, with exit status 1."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from marketplace import cli
from marketplace.datastore.schema import ImportSpec
from marketplace.datastore.sqlite_store import SQLiteDatastore


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small demo store, seeded once; each test verifies (or tampers with) its own copy."""
    data_dir = tmp_path_factory.mktemp("verify-demo") / "data"
    result = _run(data_dir, "demo", "--enterprise-rows", "100")
    assert result.exit_code == 0, result.output
    return data_dir


@pytest.fixture
def store(seeded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(seeded, copy)
    return copy


def _run(data_dir: Path, *arguments: str) -> Result:
    return CliRunner().invoke(cli.main, list(arguments), env={
        "DATABANK_DATA_DIR": str(data_dir), "DATABANK_ENV": "development"})


def _edit_entitlement_doc(data_dir: Path, kind: str, change) -> str:
    """Change one document of ``kind`` in the market's SQLite read model; returns its id."""
    with sqlite3.connect(data_dir / "read-models" / "entitlements.sqlite3") as conn:
        key, doc = conn.execute("SELECT id, doc FROM entitlement_docs WHERE kind = ? "
                                "ORDER BY id LIMIT 1", (kind,)).fetchone()
        edited = orjson.loads(doc)
        change(edited)
        conn.execute("UPDATE entitlement_docs SET doc = ? WHERE kind = ? AND id = ?",
                     (orjson.dumps(edited), kind, key))
    return key


def test_a_clean_demo_store_verifies(store: Path) -> None:
    result = _run(store, "verify")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("verified: the read models agree with the event log")
    assert "Catalogue" in result.output and "Market" in result.output


def test_a_subscription_status_edited_in_the_read_model_is_reported(store: Path) -> None:
    key = _edit_entitlement_doc(store, "subscription", lambda d: d.update(status="revoked"))
    result = _run(store, "verify")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"Market subscription {key}: status: event log says 'active', read model says 'revoked'"]


def test_a_revoked_api_key_shown_as_active_and_a_lost_member_are_reported(store: Path) -> None:
    key = _edit_entitlement_doc(store, "api_key", lambda d: d.update(revoked=True))
    org = _edit_entitlement_doc(store, "organisation", lambda d: d["members"].clear())
    lines = _run(store, "verify").output.splitlines()
    assert f"Market api_key {key}: revoked: event log says False, read model says True" in lines
    assert any(line.startswith(f"Market organisation {org}: members: ") for line in lines), lines


def test_an_asset_status_edited_in_the_catalogue_read_model_is_reported(store: Path) -> None:
    with sqlite3.connect(store / "read-models" / "catalogue.sqlite3") as conn:
        key, doc = conn.execute("SELECT id, doc FROM catalogue_docs ORDER BY id LIMIT 1").fetchone()
        entry = orjson.loads(doc)
        was = entry["status"]
        entry["status"] = "withdrawn" if was != "withdrawn" else "draft"
        conn.execute("UPDATE catalogue_docs SET doc = ? WHERE id = ?", (orjson.dumps(entry), key))
    result = _run(store, "verify")
    assert result.exit_code == 1, result.output
    assert (f"Catalogue asset {key}: status: event log says {was!r}, read model says "
            f"{entry['status']!r}") in result.output.splitlines()


def test_a_read_model_document_no_event_wrote_is_reported(store: Path) -> None:
    with sqlite3.connect(store / "read-models" / "entitlements.sqlite3") as conn:
        conn.execute("INSERT INTO entitlement_docs (kind, id, org, asset, extra, doc) VALUES "
                     "('plan', 'forged-plan', NULL, NULL, NULL, ?)",
                     (orjson.dumps({"id": "forged-plan"}),))
    result = _run(store, "verify")
    assert result.exit_code == 1
    assert ("Market plan forged-plan: (document): event log says 'missing', read model says "
            "'present'") in result.output.splitlines()


def test_a_version_table_no_event_names_is_reported(store: Path) -> None:
    """What an import killed after its table committed and before its event was saved leaves."""
    datastore = SQLiteDatastore(store / "datastore.sqlite3")
    try:
        datastore.import_version("v_0000000000000000_orphan0000", io.BytesIO(b"a,b\n1,2\n"),
                                 ImportSpec(format="csv"))
    finally:
        datastore.close()
    result = _run(store, "verify")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        ("Catalogue version table v_0000000000000000_orphan0000: table: event log says "
         "'named by no event', read model says 'present'")]
