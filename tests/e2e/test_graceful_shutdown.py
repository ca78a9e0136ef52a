"""SIGTERM while rows are being served: the server stops accepting, finishes the requests in
flight, then closes the bank (the ledger's committer drains its queue, the key touches are
handed over) — after a restart the ledger holds exactly the rows the clients received."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from domain.metering import period_of
from support.api import operation

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAGE = 37
CLIENTS = 12  # under the anonymous allowance's 30 calls a minute, with the warm-up


def _rows_received(base_url: str, asset: str) -> int:
    """One anonymous page; the rows in the answer (0 when the server was gone or refused)."""
    try:
        response = httpx.post(f"{base_url}/graphql", timeout=30.0,
                              json={"query": operation("Rows"),
                                    "variables": {"assetId": asset, "first": PAGE}})
    except httpx.HTTPError:
        return 0  # refused or cut before an answer: nothing was served
    if response.status_code != 200:
        return 0
    data = response.json().get("data") or {}
    return len((data.get("rows") or {}).get("rows") or [])


def test_sigterm_finishes_requests_in_flight_and_loses_no_usage(launcher, connect,
                                                                 tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    launcher.cli(data_dir, "demo", "--enterprise-rows", "2000", timeout=180)
    server = launcher.serve(data_dir, demo=True)
    api = connect(server.base_url)
    found = api.data(operation("SearchCatalogue"), {"search": "企业登记信息", "category": "ENTERPRISE"})
    asset = next(n for n in found["catalogue"]["nodes"] if n["name"] == "六安市企业登记信息")["id"]
    api.close()

    warm = [_rows_received(server.base_url, asset) for _ in range(3)]
    assert warm == [PAGE] * 3

    # Requests in flight when the signal arrives: the server must finish each one it accepted.
    received: list[int] = []
    started = threading.Barrier(CLIENTS + 1)
    first_answer = threading.Event()

    def client() -> None:
        started.wait()
        received.append(_rows_received(server.base_url, asset))
        first_answer.set()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    started.wait()
    first_answer.wait(30)  # the others are being served now
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(60)
    # uvicorn shuts down gracefully, then re-raises the signal it captured (exit by SIGTERM).
    assert server.process.wait(30) in (0, -signal.SIGTERM), server.output()
    served = sum(warm) + sum(received)

    # Restarted on the same files: the ledger holds exactly what was served.
    again = launcher.serve(data_dir, demo=True)
    again.stop()
    from marketplace.bootstrap import build
    from marketplace.settings import Settings

    bank = build(Settings(data_dir=data_dir), create_tables=False)
    try:
        usage = bank.ledger.usage("anon:127.0.0.1", period_of(datetime.now(timezone.utc)))
    finally:
        bank.close()
    assert usage["rows"] == served, (usage, warm, received)
    assert usage["calls"] == sum(1 for n in warm + received if n > 0)
