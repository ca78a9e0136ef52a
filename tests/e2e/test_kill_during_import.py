"""kill -9 during a version import (issue 11): a version exists entirely or not at all.

A large file (300,000 enterprise rows, ~80 MB) is imported with ``databank import`` — the same
``Catalogue.upload_version`` the GraphQL upload calls — and the process is killed with SIGKILL
while its rows are streaming into the new table (seen from outside: the datastore's write-ahead
log growing on SQLite, the COPY running on PostgreSQL). Afterwards ``databank verify`` must find
no event without its table, no version table without its event, and read models that agree with
the log; the asset imports the next file as the next version, as if nothing had happened, and a
restarted server catches the read models up to it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from access_setup import database_url
from conftest import databank_command, server_environment
from marketplace.demo.assets import asset as demo_asset
from marketplace.demo.rows import write_csv
from marketplace.demo.seed import publisher_username
from support.waiting import wait_until

pytestmark = [pytest.mark.e2e]

BIG_ROWS = 300_000
#: The write-ahead log holds the uncommitted import once it outgrows SQLite's page cache: this
#: much of it means rows are streaming into the new table.
WAL_IN_FLIGHT_BYTES = 8 * 1024 * 1024
REGISTRY = demo_asset("enterprise_registry")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv("enterprise_registry", tmp_path_factory.mktemp("big") / "registry.csv",
                     n=BIG_ROWS)


def _registry_versions(data_dir: Path, url: str | None) -> tuple[str, int]:
    """The demo registry's asset id and how many versions it has."""
    from marketplace.bootstrap import build
    from marketplace.projections.catalogue_view import CatalogueQuery
    from marketplace.settings import Settings

    bank = build(Settings(data_dir=data_dir, database_url=url), create_tables=False,
                 fast_hashing=True)
    try:
        bank.catalogue_follower.catch_up()
        [entry] = [e for e in bank.catalogue_view.search(CatalogueQuery(
            text=REGISTRY["name"], statuses=("published",), first=10)).entries
            if e["metadata"]["name"] == REGISTRY["name"]]
        return entry["id"], len(entry["versions"])
    finally:
        bank.close()


def _import_running(data_dir: Path, url: str | None) -> bool:
    if url is None:
        wal = data_dir / "datastore.sqlite3-wal"
        return wal.exists() and wal.stat().st_size >= WAL_IN_FLIGHT_BYTES
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        [(running,)] = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'COPY %FROM STDIN%' "
            "AND state = 'active' AND pid <> pg_backend_pid()").fetchall()
    return running > 0


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """The database URL (None: the embedded SQLite store)."""
    if request.param == "sqlite":
        return None
    return database_url(request.getfixturevalue("postgres_url"),
                        request.getfixturevalue("postgres_schema"))


@pytest.mark.slow
def test_an_import_killed_mid_stream_leaves_no_half_version(backend: str | None, launcher,
                                                            big_file: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    launcher.cli(data_dir, "demo", "--enterprise-rows", "100", database_url=backend, timeout=120)
    asset_id, versions = _registry_versions(data_dir, backend)
    publisher = publisher_username(REGISTRY["department"])

    importing = subprocess.Popen(
        databank_command("import", asset_id, str(big_file), "--as", publisher),
        env=server_environment(data_dir, database_url=backend), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: importing.poll() is not None or _import_running(data_dir, backend),
                   what="the import to be streaming rows", interval=0.01)
        assert importing.poll() is None, (
            f"the import ended before it could be killed:\n{importing.stdout.read().decode()}")
        os.kill(importing.pid, signal.SIGKILL)
    finally:
        importing.wait(30)
        importing.stdout.close()
    assert importing.returncode == -signal.SIGKILL

    # No event without its table, no table without its event, read models in step.
    report = launcher.cli(data_dir, "verify", database_url=backend)
    assert report.startswith("verified:"), report
    assert _registry_versions(data_dir, backend) == (asset_id, versions)

    # The asset carries on: the next import is the next version, whole.
    small = write_csv("enterprise_registry", tmp_path / "small.csv", n=500)
    done = launcher.cli(data_dir, "import", asset_id, str(small), "--as", publisher,
                        database_url=backend)
    assert f"version {versions + 1} of" in done and "500 rows" in done, done
    # A one-shot command leaves the read models to the server, which catches them up as it starts.
    launcher.serve(data_dir, database_url=backend).stop()
    assert launcher.cli(data_dir, "verify", database_url=backend).startswith("verified:")
    assert _registry_versions(data_dir, backend) == (asset_id, versions + 1)
