"""PostgreSQL goes away under a running server and comes back (issue 11): while it is away every
request is refused fast with 503 SERVICE_UNAVAILABLE and a Retry-After header — never a hang,
never a 500, never the driver's text — and once it is back the same server answers again by
itself (its pools reconnect), with every row it served metered exactly once.

The database "restarts" through a TCP proxy the test owns (tests/e2e/tcp_proxy.py): the machine's
PostgreSQL cluster is shared and never stopped."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from access_setup import ROWS_QUERY, bank_on, database_url, subscribe_with_key
from domain.metering import period_of
from support.waiting import wait_until
from tcp_proxy import TcpProxy

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

#: A refusal must come well within this; a request that takes longer fails the test as a hang.
CLIENT_TIMEOUT = 20.0
PAGE = 50


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def _upstream(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def test_requests_fail_fast_with_503_while_postgres_is_away_and_succeed_when_it_is_back(
        postgres_url: str, postgres_schema: str, launcher, tmp_path: Path) -> None:
    direct = database_url(postgres_url, postgres_schema)
    assert "tables are in place" in launcher.cli(tmp_path / "data", "migrate", database_url=direct)
    setup = subscribe_with_key(direct, tmp_path / "seeding", rows_per_month=1_000_000,
                               asset_rows=2_000)
    proxy = TcpProxy(_upstream(postgres_url))
    proxy.up()
    stack = ExitStack()
    try:
        server = launcher.serve(tmp_path / "data",
                                database_url=database_url(_through(postgres_url, proxy.port),
                                                          postgres_schema))
        served = {"rows": 0, "calls": 0}
        http = httpx.Client(base_url=server.base_url, timeout=CLIENT_TIMEOUT,
                            headers={"Authorization": f"Bearer {setup.api_key}"})
        stack.callback(http.close)

        def ask() -> httpx.Response:
            response = http.post("/graphql", json={"query": ROWS_QUERY, "variables": {
                "assetId": setup.asset_id, "first": PAGE}})
            if response.status_code == 200 and "errors" not in response.json():
                served["rows"] += len(response.json()["data"]["rows"]["rows"])
                served["calls"] += 1
            return response

        for _ in range(3):
            response = ask()
            assert response.status_code == 200, response.text

        proxy.down()
        for _ in range(6):  # the first ones meet broken connections, later ones a refused port
            try:
                response = ask()
            except httpx.TimeoutException:  # pragma: no cover - the failure this test exists for
                pytest.fail(f"a request hung for {CLIENT_TIMEOUT:.0f} s while the database was "
                            f"away:\n{server.output()}")
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) >= 1
            (error,) = response.json()["errors"]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert str(proxy.port) not in response.text
            assert "connection" not in response.text.lower()
        # Another route on the read models: 503 too, never a 500. (Routes on the event store —
        # mutations, /healthz — wait out the event-sourcing library's own retries first.)
        response = http.get("/")
        assert response.status_code == 503, response.text
        assert str(proxy.port) not in response.text

        proxy.up()
        wait_until(lambda: ask().status_code == 200,
                   what="the server to answer again once the database is back")
        for _ in range(3):
            response = ask()
            assert response.status_code == 200, response.text
    finally:
        stack.close()
        proxy.down()

    with bank_on(direct, tmp_path / "checking") as bank:
        usage = bank.ledger.usage(setup.subscription_id, period_of(datetime.now(timezone.utc)))
    # Every row served is metered, and no row of a refused request: the rows are exact. A call
    # reserved just before the datastore failed (the ledger's pool reconnected first) answered
    # 503 and stays counted — the ledger settles rows, not calls: metered ≥ served, never less.
    assert usage["rows"] == served["rows"]
    assert usage["calls"] >= served["calls"]
