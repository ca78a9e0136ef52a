"""Operations run off the event loop, on a bounded set of worker threads, and a database that
cannot answer refuses fast with 503 + Retry-After — never a hang, never a 500, never its text."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import anyio
import graphene
import httpx
import psycopg
import pytest
from eventsourcing.persistence import OperationalError as StoreOperationalError
from psycopg_pool import PoolTimeout
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.settings import Settings
from marketplace.web.exports import exports_route
from marketplace.web.graphql_endpoint import GraphQLEndpoint
from support.endpoint_context import PlainContext

SECRET = "host=10.9.8.7 port=5432 password=hunter2"
# A resolver waits at most this long for its partner request (a bound, never asserted).
PATIENCE = 10


class Gate:
    """Requests that wait for one another: they can only all finish if they run at once."""

    def __init__(self, parties: int, patience: float = PATIENCE) -> None:
        self.barrier = threading.Barrier(parties, timeout=patience)
        self.lock = threading.Lock()
        self.running = self.most = 0


def _failure(kind: str) -> BaseException:
    if kind == "psycopg":
        return psycopg.OperationalError(f"connection failed: {SECRET}")
    if kind == "pool":
        return PoolTimeout(f"couldn't get a connection after 3.00 sec ({SECRET})")
    if kind == "sqlite":
        return sqlite3.OperationalError("database is locked")
    try:  # the event-sourcing library wraps the driver's error in its own
        raise psycopg.OperationalError(SECRET)
    except psycopg.OperationalError as driver:
        try:
            raise StoreOperationalError(SECRET) from driver
        except StoreOperationalError as wrapped:
            return wrapped


class Query(graphene.ObjectType):
    meet = graphene.String()
    where = graphene.Int()
    down = graphene.String(kind=graphene.String())
    broken = graphene.String()
    count = graphene.Int(gate=graphene.String())

    @staticmethod
    def resolve_meet(root: Any, info: Any) -> str:
        # Two requests meet here: with execution on the event loop the first would block it and
        # the second could never arrive.
        try:
            info.context.gate.barrier.wait()
        except threading.BrokenBarrierError:
            return "alone"
        return "met"

    @staticmethod
    def resolve_where(root: Any, info: Any) -> int:
        return threading.get_ident()

    @staticmethod
    def resolve_down(root: Any, info: Any, kind: str) -> str:
        raise _failure(kind)

    @staticmethod
    def resolve_broken(root: Any, info: Any) -> str:
        raise sqlite3.OperationalError(f"no such column: {SECRET}")

    @staticmethod
    def resolve_count(root: Any, info: Any, gate: str) -> int:
        g: Gate = info.context.gate
        with g.lock:
            g.running += 1
            g.most = max(g.most, g.running)
        try:
            g.barrier.wait()  # all parties at once, or a broken barrier if the limiter holds some
        except threading.BrokenBarrierError:
            pass
        finally:
            with g.lock:
                g.running -= 1
        return g.most


SCHEMA = graphene.Schema(query=Query).graphql_schema


def _app(gate: Gate | None = None, **options: Any) -> Starlette:
    def context(request: Any) -> PlainContext:
        ctx = PlainContext()
        ctx.gate = gate  # type: ignore[attr-defined]
        ctx.factory_thread = threading.get_ident()  # type: ignore[attr-defined]
        return ctx

    options.setdefault("context_factory", context)
    return Starlette(routes=[GraphQLEndpoint(SCHEMA, **options).route()])


async def _post_all(app: Starlette, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    responses: list[httpx.Response | None] = [None] * len(bodies)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        async def one(i: int) -> None:
            responses[i] = await client.post("/graphql", json=bodies[i], timeout=PATIENCE * 3)

        async with anyio.create_task_group() as tasks:
            for i in range(len(bodies)):
                tasks.start_soon(one, i)
    return [r for r in responses if r is not None]


def test_a_waiting_operation_does_not_stop_another_request_from_running() -> None:
    app = _app(Gate(2))
    first, second = anyio.run(_post_all, app, [{"query": "{ meet }"}, {"query": "{ meet }"}])
    assert first.json() == {"data": {"meet": "met"}}
    assert second.json() == {"data": {"meet": "met"}}


def test_the_context_factory_and_the_resolvers_run_on_a_worker_thread() -> None:
    loop_thread: list[int] = []

    async def probe() -> list[httpx.Response]:
        loop_thread.append(threading.get_ident())
        return await _post_all(_app(), [{"query": "{ where }"}])

    (response,) = anyio.run(probe)
    assert response.json()["data"]["where"] != loop_thread[0]


def test_the_limiter_bounds_how_many_operations_run_at_once() -> None:
    # Three requests, two threads: the barrier of three can never fill, so it breaks, and the
    # most ever running together is two.
    gate = Gate(3, patience=2)  # how long the two admitted wait for a third that never comes
    limiter = anyio.CapacityLimiter(2)
    bodies = [{"query": '{ count(gate: "x") }'}] * 3
    responses = anyio.run(_post_all, _app(gate, limiter=limiter), bodies)
    assert all(r.status_code == 200 for r in responses)
    assert gate.most == 2


@pytest.mark.parametrize("kind", ["psycopg", "pool", "sqlite", "wrapped"])
def test_a_database_that_cannot_answer_refuses_with_503_and_retry_after(kind: str) -> None:
    client = TestClient(_app())
    response = client.post("/graphql", json={"query": "query($k: String) { down(kind: $k) }",
                                            "variables": {"k": kind}})
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])
    assert "hunter2" not in response.text and "10.9.8.7" not in response.text


def test_an_sqlite_error_that_is_a_bug_stays_an_internal_error() -> None:
    response = TestClient(_app()).post("/graphql", json={"query": "{ broken }"})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in response.text


@pytest.mark.parametrize("kind", ["psycopg", "pool", "sqlite"])
def test_a_context_factory_that_cannot_reach_the_database_refuses_with_503(kind: str) -> None:
    def context(request: Any) -> PlainContext:
        raise _failure(kind)

    response = TestClient(_app(context_factory=context)).post("/graphql", json={"query": "{ where }"})
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "hunter2" not in response.text


def test_a_sync_upload_check_that_cannot_reach_the_database_refuses_with_503() -> None:
    def authorize(request: Any) -> None:
        raise _failure("pool")

    client = TestClient(_app(authorize_upload=authorize))
    response = client.post("/graphql", headers={"GraphQL-Preflight": "1"},
                           files={"operations": (None, '{"query": "{ where }"}'),
                                  "map": (None, "{}")})
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "hunter2" not in response.text


class _DownExports:
    def open(self, token: str, *, ip: str, after_row: int) -> Any:
        raise PoolTimeout(f"couldn't get a connection ({SECRET})")


def test_an_export_download_without_its_database_refuses_with_503() -> None:
    app = Starlette(routes=[exports_route(_DownExports())])  # type: ignore[arg-type]
    response = TestClient(app).get("/exports/some-token")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "hunter2" not in response.text


def test_request_threads_default_to_the_cores_and_a_bad_value_stops_the_start() -> None:
    assert Settings.from_env({}).request_threads >= 1
    assert Settings.from_env({"DATABANK_REQUEST_THREADS": "3"}).request_threads == 3
    for bad in ("0", "many", "-2", "5000"):
        with pytest.raises(ValueError, match="DATABANK_REQUEST_THREADS"):
            Settings.from_env({"DATABANK_REQUEST_THREADS": bad})
