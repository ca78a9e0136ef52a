"""The sync and async clients are twins: the same transport script gives the same results and
the same requests."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

import httpx
import pytest

import databank
from support.sdk_mock import Script, error, graphql

ASSETS = {"catalogue": {"totalCount": 1, "pageInfo": {"endCursor": "c", "hasNextPage": False},
                        "nodes": [{"id": "A", "resourceCode": "X", "name": "企业登记",
                                   "status": "PUBLISHED", "department": {"id": "d", "name": "市场监管局"},
                                   "currentVersion": {"number": 1, "rowCount": 3}}]}}
ROWS_1 = {"rows": {"rows": [{"n": 1}, {"n": 2}], "columns": ["n"], "maskedColumns": [],
                   "version": 1, "pageInfo": {"endCursor": "r1", "hasNextPage": True}}}
ROWS_2 = {"rows": {"rows": [{"n": 3}], "columns": ["n"], "maskedColumns": [], "version": 1,
                   "pageInfo": {"endCursor": "r2", "hasNextPage": False}}}
USAGE = {"usage": [{"subscriptionId": "S", "status": "ACTIVE", "period": "2026-03",
                    "asset": {"id": "A", "name": "企业登记"}, "plan": {"id": "P", "name": "免费版"},
                    "rowsUsed": 3, "callsUsed": 2, "bytesUsed": 10.0, "rowsQuota": 10,
                    "callsQuota": None, "rowsRemaining": 7, "callsRemaining": None,
                    "resetAt": "2026-04-01T00:00:00+08:00"}]}
KEY = {"createApiKey": {"apiKey": {"id": "K", "name": "etl", "display": "dbk_12345678…",
                                   "scopes": ["rows:read"]}, "plaintext": "dbk_" + "s" * 40,
                        "errors": []}}


def script() -> Script:
    return Script(graphql(ASSETS), httpx.Response(503), graphql(ROWS_1), graphql(ROWS_2),
                  graphql(USAGE), graphql(KEY),
                  error("BAD_USER_INPUT", "cannot filter on '血型'"))


def run_sync(s: Script) -> list[Any]:
    with s.sync() as client:
        out: list[Any] = [[a.name for a in client.catalogue.search("企业")],
                          list(client.assets.rows("A", page_size=2)),
                          client.usage.current(), client.api_keys.create("etl").api_key]
        try:
            list(client.assets.rows("A", where={"血型": "A"}))
        except databank.InvalidQueryError as exc:
            out.append(("InvalidQueryError", exc.message))
        return out


def run_async(s: Script) -> list[Any]:
    async def run() -> list[Any]:
        async with s.async_() as client:
            out: list[Any] = [[a.name async for a in client.catalogue.search("企业")],
                              await client.assets.rows("A", page_size=2).to_list(),
                              await client.usage.current(),
                              (await client.api_keys.create("etl")).api_key]
            try:
                await client.assets.rows("A", where={"血型": "A"}).to_list()
            except databank.InvalidQueryError as exc:
                out.append(("InvalidQueryError", exc.message))
            return out

    return asyncio.run(run())


def test_sync_and_async_give_the_same_results_for_the_same_script(waits) -> None:
    sync_script, async_script = script(), script()
    sync_result, async_result = run_sync(sync_script), run_async(async_script)
    assert sync_result == async_result
    assert sync_result[1] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert sync_result[2].subscriptions[0].rows_remaining == 7


def test_sync_and_async_send_the_same_requests(waits) -> None:
    sync_script, async_script = script(), script()
    run_sync(sync_script)
    run_async(async_script)

    def shape(s: Script) -> list[tuple]:
        return [(r.method, str(r.url), r.headers["User-Agent"], json.loads(r.content))
                for r in s.requests]

    assert shape(sync_script) == shape(async_script) and len(sync_script.requests) == 7


@pytest.mark.parametrize("name", ["catalogue", "assets", "subscriptions", "api_keys",
                                  "applications", "usage"])
def test_both_clients_have_the_same_resources_and_methods(name: str) -> None:
    public: Callable[[object], set[str]] = lambda o: {m for m in dir(o) if not m.startswith("_")}
    sync_client = databank.Client("dbk_x", base_url="http://x")
    async_client = databank.AsyncClient("dbk_x", base_url="http://x")
    assert public(getattr(sync_client, name)) == public(getattr(async_client, name)) != set()
    assert public(sync_client) == public(async_client)
    sync_client.close()
    asyncio.run(async_client.close())
