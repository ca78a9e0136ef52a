"""kill -9 while usage is being served and fed into the meters (issue 11), on the embedded SQLite
store (the 4-worker PostgreSQL version is test_access_exactness.py).

16 clients page through an asset as fast as one server answers them, while the server's feeder
turns the ledger's usage records into UsageMeter events; once the meters are being fed, the
server is killed with SIGKILL mid-load and started again on the same data directory. Then: every
row a client received is in the ledger (reserved before served), the ledger holds no more than
the requests in flight at the kill could have reserved, the meters equal the ledger after
feeding (nothing lost, nothing counted twice), feeding again changes nothing, and
``databank verify`` finds the read models in step with the log.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from access_setup import ROWS_QUERY, bank_on, subscribe_with_key
from domain.metering import period_of
from support.waiting import wait_until

pytestmark = [pytest.mark.e2e]

CLIENTS = 16
PAGE = 100


def _meter_events(data_dir: Path) -> int:
    path = data_dir / "events" / "metering.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        if "stored_events" not in tables:
            return 0
        return conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]


@pytest.mark.slow
def test_a_server_killed_while_feeding_meters_loses_and_doubles_no_usage(launcher,
                                                                        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    launcher.cli(data_dir, "migrate")  # the set-up below creates no tables
    setup = subscribe_with_key(None, data_dir, rows_per_month=100_000_000)
    server = launcher.serve(data_dir)
    period = period_of(datetime.now(timezone.utc))
    received: list[int] = []
    outcomes: Counter = Counter()
    stop = threading.Event()

    def client() -> None:
        after = None
        with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
            while not stop.is_set():
                try:
                    response = http.post("/graphql", json={"query": ROWS_QUERY, "variables": {
                        "assetId": setup.asset_id, "first": PAGE, "after": after}},
                        headers={"Authorization": f"Bearer {setup.api_key}"})
                except httpx.HTTPError as exc:  # the kill: this request was never answered
                    outcomes[type(exc).__name__] += 1
                    return
                body = response.json()
                if response.status_code != 200 or "errors" in body:
                    outcomes[f"HTTP {response.status_code} {body.get('errors')}"] += 1
                    return
                page = body["data"]["rows"]
                received.append(len(page["rows"]))
                info = page["pageInfo"]
                after = info["endCursor"] if info["hasNextPage"] else None

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        # The kill lands with requests in flight on every client and the feeder at work.
        wait_until(lambda: len(received) >= 20 * CLIENTS and _meter_events(data_dir) > 0,
                   what="rows served and meters being fed")
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not any(t.is_alive() for t in threads)
    assert not [o for o in outcomes if o.startswith("HTTP")], outcomes
    served_rows, served_pages = sum(received), len(received)

    # Restart: the server recovers the stores and feeds what is left; a graceful stop flushes.
    launcher.serve(data_dir).stop()
    with bank_on(None, data_dir) as bank:
        wait_until(lambda: bank.metering.feed_all(grace_seconds=0) == 0
                   and bank.ledger.pending_feed_batch() is None, what="every record fed")
        ledger = bank.ledger.usage(setup.subscription_id, period)
        meter = bank.metering.meter_usage(setup.subscription_id, period)
        print(f"\nreceived {served_rows:,} rows in {served_pages:,} pages; ledger "
              f"{ledger['rows']:,} rows / {ledger['calls']:,} calls; meter {meter}; {dict(outcomes)}")
        # Reserved before served: nothing received is missing; what was reserved and never
        # answered is at most one page per client in flight at the kill.
        assert served_rows <= ledger["rows"] <= served_rows + CLIENTS * PAGE, (ledger, served_rows)
        assert served_pages <= ledger["calls"] <= served_pages + CLIENTS, (ledger, served_pages)
        assert meter is not None
        assert (meter["rows"], meter["calls"]) == (ledger["rows"], ledger["calls"]), (meter, ledger)
        assert bank.metering.feed_all(grace_seconds=0) == 0
        assert bank.metering.meter_usage(setup.subscription_id, period) == meter
    assert launcher.cli(data_dir, "verify").startswith("verified:")
