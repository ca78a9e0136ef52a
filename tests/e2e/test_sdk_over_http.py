"""Ring 2 over loopback: the SDK against ``databank serve`` with the demo, as a developer holding
the demo startup's free key would use it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

import databank
from support.sdk_server import demo_key

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(demo_server):
    with databank.Client(demo_key(demo_server), base_url=demo_server.base_url) as sdk:
        yield sdk


def _registry(client: databank.Client) -> databank.Asset:
    (asset,) = [a for a in client.catalogue.search("企业", category="enterprise")
                if a.name == "六安市企业登记信息"]
    return asset


def test_a_developer_with_the_free_key_finds_the_enterprise_registry(client) -> None:
    asset = _registry(client)
    assert asset.row_count == 2000 and asset.department and asset.code


def test_rows_of_an_open_dataset_come_into_a_list_across_pages(client) -> None:
    asset = _registry(client)
    rows = client.assets.rows(asset.id, limit=1200, page_size=500)
    pulled = list(rows)
    assert len(pulled) == 1200 and len({json.dumps(r, sort_keys=True) for r in pulled}) == 1200
    assert rows.last_page.quota is None or rows.last_page.quota.rows_used >= 1200


def test_a_where_filters_server_side(client) -> None:
    asset = _registry(client)
    huoshan = list(client.assets.rows(asset.id, where={"所属区县": "霍山县"}, limit=300))
    assert huoshan and all(r["所属区县"] == "霍山县" for r in huoshan)


def test_a_malformed_where_is_a_value_error(client) -> None:
    with pytest.raises(ValueError, match="血型"):
        list(client.assets.rows(_registry(client).id, where={"血型": "A"}))


def test_a_wrong_key_is_an_authentication_error(demo_server) -> None:
    with databank.Client("dbk_" + "A" * 40, base_url=demo_server.base_url) as wrong:
        with pytest.raises(databank.AuthenticationError) as raised:
            wrong.usage.current()
    assert raised.value.status_code == 401 and raised.value.reason == "unknown_key"


def test_usage_shows_the_subscriptions_with_their_reset_time(client) -> None:
    list(client.assets.rows(_registry(client).id, limit=10))
    usage = client.usage.current()
    assert len(usage) >= 1 and all(entry.reset_at is not None for entry in usage)


def test_the_async_client_reads_the_same_rows(demo_server, client) -> None:
    asset = _registry(client)

    async def pull() -> list[dict]:
        async with databank.AsyncClient(demo_key(demo_server), base_url=demo_server.base_url) as sdk:
            return await sdk.assets.rows(asset.id, limit=50).to_list()

    assert asyncio.run(pull()) == list(client.assets.rows(asset.id, limit=50))


def test_an_unreachable_server_is_a_connection_error_after_the_retries(demo_server) -> None:
    with databank.Client("dbk_x", base_url="http://127.0.0.1:9", max_retries=1) as sdk:
        with pytest.raises(databank.APIConnectionError) as raised:
            sdk.viewer()
    assert raised.value.attempts == 2


def test_the_command_line_writes_rows_to_csv(demo_server, client, tmp_path: Path) -> None:
    import os

    asset = _registry(client)
    target = tmp_path / "huoshan.csv"
    script = Path(sys.executable).with_name("databank-sdk")
    done = subprocess.run([str(script), "--base-url", demo_server.base_url, "rows", asset.id,
                           "--where", '{"所属区县": "霍山县"}', "--limit", "20", "--csv", str(target)],
                          env={**os.environ, "DATABANK_API_KEY": demo_key(demo_server)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 21 and "所属区县" in lines[0]
