"""Per-request overhead of the /graphql endpoint, in process (no HTTP, no server).

Drives the ASGI app directly with a tiny query and compares the parse+validate cache on and off:
the median of 5 runs of N requests each, in microseconds per request.

    .venv/bin/python bench/graphql_overhead.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import graphene  # noqa: E402
import orjson  # noqa: E402

from marketplace.web.graphql_endpoint import GraphQLEndpoint  # noqa: E402


class Item(graphene.ObjectType):
    id = graphene.Int()
    name = graphene.String()


class Query(graphene.ObjectType):
    hello = graphene.String()
    items = graphene.List(Item, first=graphene.Int())

    @staticmethod
    def resolve_hello(root: Any, info: Any) -> str:
        return "hello"

    @staticmethod
    def resolve_items(root: Any, info: Any, first: int = 10) -> list[dict]:
        return [{"id": i, "name": f"item {i}"} for i in range(first)]


SCHEMA = graphene.Schema(query=Query).graphql_schema
QUERIES = {
    "tiny": ("{ hello }", None),
    "page of 10 (variable first)": (
        "query Page($first: Int) { items(first: $first) { id name } }", {"first": 10}),
}


async def context_factory(request: Any) -> dict:
    return {}


async def run(endpoint: GraphQLEndpoint, body: bytes, n: int) -> float:
    scope = {"type": "http", "method": "POST", "path": "/graphql", "raw_path": b"/graphql",
             "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
             "server": ("bench", 80), "client": ("bench", 1),
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict:
        return message

    statuses = []

    async def send(event: dict) -> None:
        if event["type"] == "http.response.start":
            statuses.append(event["status"])

    started = time.perf_counter()
    for _ in range(n):
        await endpoint(dict(scope), receive, send)
    elapsed = time.perf_counter() - started
    assert set(statuses) == {200}, statuses
    return elapsed / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"in-process /graphql overhead, median of 5 runs x {n} requests (µs per request)")
    for label, (query, variables) in QUERIES.items():
        body = orjson.dumps({"query": query, "variables": variables})
        results = {}
        for mode, cache_size in (("cached", 512), ("uncached", 0)):
            endpoint = GraphQLEndpoint(SCHEMA, context_factory=context_factory,
                                       cache_size=cache_size)
            asyncio.run(run(endpoint, body, 50))  # warm up
            results[mode] = statistics.median(asyncio.run(run(endpoint, body, n)) for _ in range(5))
        saved = results["uncached"] - results["cached"]
        print(f"  {label:30} cached {results['cached']:8.1f}   uncached {results['uncached']:8.1f}"
              f"   parse+validate {saved:8.1f}")


if __name__ == "__main__":
    main()
