"""Beyond one machine (issue 11): two independent ``databank serve`` processes — each its own
data directory, port and ``--workers 2`` — on ONE PostgreSQL database, the way N app servers
stand behind a load balancer (docs/scaling.md).

The servers share nothing but the database and the keys an operator copies to every machine
(``keys/*.pem``, ``keys/cursor.key``). What must hold between them:

1. Quota exactness across servers: clients hammer both servers under one API key with a small
   rows quota, every page going to the other server than the one before (a cursor sealed by one
   server is opened by the other). Exactly the quota is served — never more, and every client
   ends on a 429 QUOTA_EXCEEDED (no refusal while rows remained, the exactness test's
   criterion); the ledger says the quota and the number of pages; after feeding, the meter agrees.
2. The per-minute rate limit holds across servers: every accepted call has its own place in the
   (subscription, month) call count (1..N, none twice), and within every minute window the
   calls are numbered R-1, R-2, ... 0 from the limit down — never more than R per window, however
   the requests were spread over the two servers.
3. Why the keys are copied: a server whose data directory has keys of its own refuses a cursor
   the other server sealed (and serves the first page as usual).
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from access_setup import (
    ROWS_QUERY,
    Subscribed,
    bank_on,
    database_url,
    subscribe_with_key,
    unfed_records,
    worker_pids,
)
from support.marketplace import ADMIN

from domain.metering import period_of

if TYPE_CHECKING:
    from conftest import Server

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

QUOTA = 3_000
CLIENTS = 12  # 6 start on each server
RATE_LIMIT = 25
RATE_CLIENTS = 8
WORKERS = 2
CLIENT_SECONDS = 90.0
FEED_SECONDS = 20.0

RATE_QUERY = """query Rows($assetId: ID!, $first: Int) {
  rows(assetId: $assetId, first: $first) { rows }
}"""


def _minute() -> int:
    """The epoch minute now: the ledger's rate window (the servers run on this machine's clock)."""
    return int(time.time() // 60)


def _period() -> str:
    return period_of(datetime.now(UTC))


def _copy_keys(source: Path, target: Path) -> None:
    """What an operator does for every new server: the same signing keys and cursor key (files
    0600, copied with their modes), so tokens and cursors made by one server open on the others."""
    shutil.copytree(source / "keys", target / "keys", copy_function=shutil.copy2)


def _migrate(launcher, url: str, tmp_path: Path) -> None:
    """``databank migrate`` once, from the first server's data directory (it makes the keys)."""
    assert "tables are in place" in launcher.cli(tmp_path / "server-a", "migrate",
                                                 database_url=url)


def _two_servers(launcher, url: str, tmp_path: Path, *, share_keys: bool = True,
                 workers: int = WORKERS) -> tuple[Server, Server]:
    """Two servers on one database, each with its own data directory (as on two machines)."""
    first_dir, second_dir = tmp_path / "server-a", tmp_path / "server-b"
    if share_keys:
        _copy_keys(first_dir, second_dir)
    servers = (launcher.serve(first_dir, workers=workers, database_url=url),
               launcher.serve(second_dir, workers=workers, database_url=url))
    for server in servers:
        if workers > 1:  # one worker is the server process itself, no supervisor
            assert len(worker_pids(server.process.pid)) == workers, server.output()
    assert servers[0].base_url != servers[1].base_url
    return servers


def _rows(http: httpx.Client, setup: Subscribed, first: int, after: str | None) -> httpx.Response:
    return http.post("/graphql", json={"query": ROWS_QUERY, "variables": {
        "assetId": setup.asset_id, "first": first, "after": after}},
        headers={"Authorization": f"Bearer {setup.api_key}"})


def _feed_everything(bank, postgres_url: str, schema: str) -> None:
    """Feed every usage record into the meters; the servers' own feeders may hold the feed lock
    (one feeder across all servers) for a moment: then try again, until a deadline."""
    deadline = time.monotonic() + FEED_SECONDS
    while True:
        bank.metering.feed_all(grace_seconds=0)
        if unfed_records(postgres_url, schema) == 0:
            return
        assert time.monotonic() < deadline, "usage records are still unfed"
        time.sleep(0.1)


def _run_clients(count: int, client) -> list[str]:
    """Start ``count`` clients together; their problems (exceptions, unexpected answers)."""
    problems: list[str] = []
    start = threading.Barrier(count)

    def guarded(number: int) -> None:
        try:
            start.wait()
            client(number)
        except Exception as exc:  # noqa: BLE001 - else lost with the thread; reported below
            problems.append(repr(exc))

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=CLIENT_SECONDS)
    assert not any(t.is_alive() for t in threads), f"a client still runs after {CLIENT_SECONDS} s"
    return problems


# ---- 1. the rows quota across two servers -----------------------------------------------------

@pytest.mark.slow
def test_two_servers_on_one_database_serve_exactly_the_quota(postgres_url: str,
                                                             postgres_schema: str, launcher,
                                                             tmp_path: Path) -> None:
    url = database_url(postgres_url, postgres_schema)
    _migrate(launcher, url, tmp_path)
    setup = subscribe_with_key(url, tmp_path / "seeding", rows_per_month=QUOTA, asset_rows=5_000)
    servers = _two_servers(launcher, url, tmp_path)
    period = _period()
    received = {server.base_url: 0 for server in servers}
    pages: list[int] = []
    refusals: list[tuple[str | None, list[str], dict | None]] = []
    odd: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        first = 37 if number % 3 == 0 else 50  # uneven pages: the last grant is partial
        https = [httpx.Client(base_url=s.base_url, timeout=30.0) for s in servers]
        try:
            after, turn = None, number % 2
            while True:
                # Every page to the other server: its cursor was sealed by the one before.
                http = https[turn]
                response = _rows(http, setup, first, after)
                body = response.json()
                if response.status_code == 429:
                    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
                    refusals.append((response.headers.get("retry-after"), codes,
                                     body.get("extensions", {}).get("quota")))
                    return
                if response.status_code != 200 or "errors" in body:
                    odd.append(f"{http.base_url} {response.status_code}: {body}")
                    return
                page = body["data"]["rows"]
                with lock:
                    received[str(http.base_url).rstrip("/")] += len(page["rows"])
                    pages.append(len(page["rows"]))
                info = page["pageInfo"]
                after = info["endCursor"] if info["hasNextPage"] else None
                turn = 1 - turn
        finally:
            for http in https:
                http.close()

    problems = _run_clients(CLIENTS, client)
    output = "\n".join(s.output() for s in servers)
    assert problems == [] and odd == [], f"{problems[:3]} {odd[:3]}\n{output}"

    print(f"\nrows served per server {received}; {len(pages)} pages; {len(refusals)} refusals")
    assert sum(received.values()) == QUOTA
    assert all(rows > 0 for rows in received.values()), received  # both servers took part
    assert len(refusals) == CLIENTS  # every client ends on a refusal, none before the quota's end
    for retry_after, codes, quota in refusals:
        assert codes == ["QUOTA_EXCEEDED"], codes
        assert retry_after is not None and int(retry_after) >= 1, retry_after
        # Refused only when the shared count had reached the quota, on either server: a server
        # counting apart would refuse (or grant) on a count of its own.
        assert quota is not None and (quota["rowsUsed"], quota["rowsRemaining"]) == (QUOTA, 0), quota

    with bank_on(url, tmp_path / "checking") as bank:
        usage = bank.ledger.usage(setup.subscription_id, period)
        assert (usage["rows"], usage["rows_quota"]) == (QUOTA, QUOTA), usage
        assert usage["calls"] == len(pages), usage  # refusals are not calls
        _feed_everything(bank, postgres_url, postgres_schema)
        meter = bank.metering.meter_usage(setup.subscription_id, period)
        assert meter is not None and (meter["rows"], meter["calls"]) == (QUOTA, len(pages)), meter
        daily = bank.ledger.daily_usage(from_day="2000-01-01", to_day="2999-12-31",
                                        subject=setup.subscription_id)
        assert sum(d["rows"] for d in daily) == QUOTA, daily
        # Feeding again finds nothing and changes nothing.
        assert bank.metering.feed_all(grace_seconds=0) == 0
        assert bank.metering.meter_usage(setup.subscription_id, period) == meter


# ---- 2. the per-minute rate limit across two servers -------------------------------------------

def _rate_limited_plan(setup: Subscribed, url: str, data_dir: Path) -> str:
    """Move the organisation to a plan of RATE_LIMIT calls a minute (rows unlimited in effect):
    the first subscription is revoked, the new one is the subscription the key now reads under."""
    with bank_on(url, data_dir) as bank:
        old = bank.subscriptions.get_subscription(setup.subscription_id)
        template_id = bank.licensing.get_plan(old.plan_id).licence_template_id
        plan = bank.licensing.define_plan(
            asset_id=setup.asset_id, name="限速版", licence_template_id=template_id, price={},
            quotas={"rows_per_month": 1_000_000, "rate_limit_per_minute": RATE_LIMIT},
            overage="block", field_tier="full", by=ADMIN)
        bank.subscriptions.revoke_subscription(setup.subscription_id, reason="改用限速版",
                                               by=ADMIN)
        subscription = bank.subscriptions.subscribe(setup.organisation_id, str(plan.id),
                                                    accepted_terms_version=1, by=setup.member)
        assert subscription.entitlement().ok, subscription.status
        return str(subscription.id)


def _minute_windows(accepted: list[tuple[int, int]], limit: int) -> list[int]:
    """The calls accepted in each minute window, from each accepted call's (callsUsed,
    rateRemaining); fails when the answers show more than ``limit`` calls in a window, or two
    calls given one place in the count (two servers counting apart).

    One count across all servers: the accepted calls are numbered 1..N, none twice. Within a
    minute window they count the limit down from limit-1 to 0; a new window (the minute may turn
    during the run) starts again at limit-1.
    """
    ordered = sorted(accepted)
    numbers = [calls for calls, _ in ordered]
    assert numbers == list(range(1, len(ordered) + 1)), f"calls counted apart: {numbers}"
    windows: list[int] = []
    expected = None
    for _, remaining in ordered:
        if remaining == limit - 1:  # the first call of a window
            windows.append(0)
        else:
            assert expected is not None and remaining == expected and remaining >= 0, \
                f"more than {limit} calls a minute: {ordered}"
        windows[-1] += 1
        expected = remaining - 1
    return windows


@pytest.mark.parametrize("answers", [
    [(1, 2), (2, 1), (3, 0), (4, 0)],  # a fourth call in a window of 3
    [(1, 2), (2, 1), (2, 0)],  # two servers each counting its own calls
    [(1, 2), (2, 1), (3, 0), (4, -1)],  # a count past the limit
    [(1, 1), (2, 0)],  # a window that did not start at the limit
])
def test_the_window_check_catches_a_broken_limit(answers: list[tuple[int, int]]) -> None:
    with pytest.raises(AssertionError):
        _minute_windows(answers, 3)


def test_the_window_check_accepts_a_minute_that_turns() -> None:
    assert _minute_windows([(1, 2), (2, 1), (3, 2), (4, 1), (5, 0)], 3) == [2, 3]


@pytest.mark.slow
def test_the_rate_limit_per_minute_holds_across_two_servers(postgres_url: str,
                                                            postgres_schema: str, launcher,
                                                            tmp_path: Path) -> None:
    url = database_url(postgres_url, postgres_schema)
    _migrate(launcher, url, tmp_path)
    setup = subscribe_with_key(url, tmp_path / "seeding", rows_per_month=1_000_000,
                               asset_rows=500)
    subscription_id = _rate_limited_plan(setup, url, tmp_path / "plans")
    servers = _two_servers(launcher, url, tmp_path)
    period = _period()
    accepted: list[tuple[int, int, str]] = []  # (callsUsed, rateRemaining, server)
    refused: list[tuple[str | None, list[str], dict | None]] = []
    odd: list[str] = []

    def client(number: int) -> None:
        # Each client alternates between the servers: 25 calls among 8 clients make some client
        # call at least 4 times, so both servers certainly accept calls.
        https = [httpx.Client(base_url=s.base_url, timeout=30.0) for s in servers]
        turn = number % 2
        try:
            while True:
                server, http = servers[turn], https[turn]
                turn = 1 - turn
                response = http.post("/graphql", json={"query": RATE_QUERY, "variables": {
                    "assetId": setup.asset_id, "first": 1}},
                    headers={"Authorization": f"Bearer {setup.api_key}"})
                body = response.json()
                if response.status_code == 429:
                    refused.append((response.headers.get("retry-after"),
                                    [e["extensions"]["code"] for e in body.get("errors", [])],
                                    body.get("extensions", {}).get("quota")))
                    return
                if response.status_code != 200 or "errors" in body:
                    odd.append(f"{server.base_url} {response.status_code}: {body}")
                    return
                quota = body["extensions"]["quota"]
                assert quota["rateLimit"] == RATE_LIMIT, quota
                accepted.append((quota["callsUsed"], quota["rateRemaining"], server.base_url))
        finally:
            for http in https:
                http.close()

    first_minute = _minute()
    problems = _run_clients(RATE_CLIENTS, client)
    last_minute = _minute()
    output = "\n".join(s.output() for s in servers)
    assert problems == [] and odd == [], f"{problems[:3]} {odd[:3]}\n{output}"

    # Every client stopped at a rate-limit refusal with a Retry-After to the next window.
    assert len(refused) == RATE_CLIENTS
    for retry_after, codes, quota in refused:
        assert codes == ["RATE_LIMITED"], codes
        assert retry_after is not None and 1 <= int(retry_after) <= 60, retry_after
        # Refused only when the shared window was full.
        assert quota is not None and quota["rateRemaining"] == 0, quota
    assert {server for _, _, server in accepted} == {s.base_url for s in servers}

    windows = _minute_windows([(calls, rate) for calls, rate, _ in accepted], RATE_LIMIT)
    assert max(windows) == RATE_LIMIT, windows  # the window the refusals came from was full
    # A new window only where the minute turned (not a server starting a count of its own).
    assert len(windows) <= last_minute - first_minute + 1, (windows, first_minute, last_minute)
    print(f"\n{len(accepted)} calls accepted in minute windows of {windows} calls by two servers "
          f"(limit {RATE_LIMIT}/min), {len(refused)} refused")

    with bank_on(url, tmp_path / "checking") as bank:
        assert bank.ledger.usage(subscription_id, period)["calls"] == len(accepted)


# ---- 3. why every server needs the same keys ---------------------------------------------------

def test_a_server_with_keys_of_its_own_refuses_the_other_servers_cursor(
        postgres_url: str, postgres_schema: str, launcher, tmp_path: Path) -> None:
    url = database_url(postgres_url, postgres_schema)
    _migrate(launcher, url, tmp_path)
    setup = subscribe_with_key(url, tmp_path / "seeding", rows_per_month=1_000_000,
                               asset_rows=200)
    sealer, stranger = _two_servers(launcher, url, tmp_path, share_keys=False, workers=1)
    assert (sealer.data_dir / "keys" / "cursor.key").read_bytes() != \
        (stranger.data_dir / "keys" / "cursor.key").read_bytes()

    with httpx.Client(base_url=sealer.base_url, timeout=30.0) as http:
        first = _rows(http, setup, 10, None).json()
    cursor = first["data"]["rows"]["pageInfo"]["endCursor"]
    assert cursor

    with httpx.Client(base_url=stranger.base_url, timeout=30.0) as http:
        own_first = _rows(http, setup, 10, None).json()  # its own first page is fine
        assert own_first["data"]["rows"]["rows"] == first["data"]["rows"]["rows"], own_first
        refused = _rows(http, setup, 10, cursor).json()
    assert refused.get("data") in (None, {"rows": None}), refused
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"], refused
    assert "cursor" in refused["errors"][0]["message"], refused
