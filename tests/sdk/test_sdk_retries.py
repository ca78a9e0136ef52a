"""Retries are part of the SDK's API: what is retried, how long it waits, what is never retried."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

import databank
from databank import _core
from support.sdk_mock import Script, error, graphql

ROWS = {"rows": {"rows": [{"a": 1}], "columns": ["a"], "maskedColumns": [], "version": 1,
                 "pageInfo": {"endCursor": None, "hasNextPage": False}}}


def test_a_server_error_then_a_success_succeeds_after_one_backoff(waits) -> None:
    script = Script(httpx.Response(500, text="boom"), graphql(ROWS))
    with script.sync() as client:
        assert list(client.assets.rows("A")) == [{"a": 1}]
    assert len(script.requests) == 2
    assert len(waits) == 1 and 0.375 <= waits[0] <= 0.5  # 0.5 s less up to 25 % jitter


def test_a_502_503_then_success_backs_off_exponentially(waits) -> None:
    script = Script(httpx.Response(502), httpx.Response(503), graphql(ROWS))
    with script.sync(max_retries=2) as client:
        client.assets.rows_page("A")
    assert len(waits) == 2 and waits[1] > waits[0]
    assert 0.75 <= waits[1] <= 1.0


def test_server_errors_past_max_retries_raise_internal_server_error(waits) -> None:
    script = Script(*[httpx.Response(500, json={"errors": [{"message": "Internal server error "
                      "(reference abc123)", "extensions": {"code": "INTERNAL_SERVER_ERROR",
                                                           "reference": "abc123"}}]})] * 3)
    with script.sync(max_retries=2) as client, pytest.raises(databank.InternalServerError) as raised:
        client.assets.rows_page("A")
    assert len(script.requests) == 3 and raised.value.status_code == 500
    assert raised.value.request_id == "abc123"


def test_a_refused_connection_raises_api_connection_error_after_the_configured_retries(waits) -> None:
    script = Script(*[httpx.ConnectError("connection refused")] * 4)
    with script.sync(max_retries=3) as client, pytest.raises(databank.APIConnectionError) as raised:
        client.catalogue.search("企业").to_list()
    assert len(script.requests) == 4 and raised.value.attempts == 4 and len(waits) == 3
    assert not isinstance(raised.value, databank.APITimeoutError)


def test_an_unreachable_real_port_raises_api_connection_error(waits) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with databank.Client("dbk_x", base_url=f"http://127.0.0.1:{port}", max_retries=1) as client:
        with pytest.raises(databank.APIConnectionError):
            client.viewer()
    assert len(waits) == 1


def test_a_timeout_raises_api_timeout_error(waits) -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"))
    with script.sync(max_retries=1) as client, pytest.raises(databank.APITimeoutError):
        client.viewer()
    assert len(script.requests) == 2


def test_a_wrong_key_is_an_authentication_error_with_no_retry(waits) -> None:
    script = Script(error("UNAUTHENTICATED", "unknown API key", status=401, reason="unknown_key"))
    with script.sync() as client, pytest.raises(databank.AuthenticationError) as raised:
        client.assets.rows_page("A")
    assert len(script.requests) == 1 and waits == []
    assert raised.value.status_code == 401 and raised.value.reason == "unknown_key"


@pytest.mark.parametrize("code, status, exception", [
    ("FORBIDDEN", 200, databank.PermissionDeniedError),
    ("BAD_USER_INPUT", 400, databank.InvalidQueryError),
    ("GRAPHQL_VALIDATION_FAILED", 400, databank.BadRequestError),
])
def test_refusals_of_the_request_itself_are_never_retried(waits, code, status, exception) -> None:
    script = Script(error(code, status=status))
    with script.sync() as client, pytest.raises(exception):
        client.assets.rows_page("A")
    assert len(script.requests) == 1 and waits == []


def test_an_exhausted_quota_raises_at_once_with_its_reset_time_and_no_retry_storm(waits) -> None:
    script = Script(error("QUOTA_EXCEEDED", "the quota is used up", status=429,
                          retryAfter=1782000, resetAt="2026-04-01T00:00:00+08:00"))
    with script.sync(max_retries=5) as client, pytest.raises(databank.QuotaExceededError) as raised:
        list(client.assets.rows("A"))
    assert len(script.requests) == 1 and waits == []
    assert raised.value.retry_after == 1782000
    assert raised.value.reset_at.isoformat() == "2026-04-01T00:00:00+08:00"
    assert raised.value.status_code == 429


def test_a_quota_that_resets_within_the_wait_limit_is_waited_out(waits) -> None:
    script = Script(error("QUOTA_EXCEEDED", status=429, retryAfter=3,
                          resetAt="2026-04-01T00:00:00+08:00"), graphql(ROWS))
    with script.sync(max_retry_wait=10) as client:
        assert client.assets.rows_page("A").rows == [{"a": 1}]
    assert waits == [3]


def test_rate_limited_honours_retry_after_then_succeeds(waits) -> None:
    script = Script(error("RATE_LIMITED", status=429, retryAfter=7), graphql(ROWS))
    with script.sync() as client:
        assert client.assets.rows_page("A").rows == [{"a": 1}]
    assert waits == [7.0] and len(script.requests) == 2


def test_a_retry_after_over_the_cap_raises_rate_limit_error_instead_of_waiting(waits) -> None:
    script = Script(error("RATE_LIMITED", status=429, retryAfter=600))
    with script.sync(max_retry_wait=60) as client, pytest.raises(databank.RateLimitError) as raised:
        client.assets.rows_page("A")
    assert waits == [] and raised.value.retry_after == 600


@pytest.mark.parametrize("status", [408, 409])
def test_408_and_409_are_retried(waits, status: int) -> None:
    script = Script(httpx.Response(status, text="try again"), graphql(ROWS))
    with script.sync() as client:
        client.assets.rows_page("A")
    assert len(script.requests) == 2


def test_max_retries_zero_turns_retrying_off(waits) -> None:
    script = Script(httpx.Response(503))
    with script.sync(max_retries=0) as client, pytest.raises(databank.InternalServerError):
        client.viewer()
    assert len(script.requests) == 1 and waits == []


def test_a_mutation_keeps_one_idempotency_key_across_its_retries(waits) -> None:
    created = {"createApiKey": {"apiKey": {"id": "k1", "name": "etl", "display": "dbk_abcdefgh…",
                                           "scopes": ["rows:read"]},
                                "plaintext": "dbk_" + "x" * 40, "errors": []}}
    script = Script(httpx.ConnectError("reset"), httpx.Response(502), graphql(created),
                    graphql(created))
    with script.sync() as client:
        client.api_keys.create("etl")
        client.api_keys.create("etl")
    keys = [r.headers.get("Idempotency-Key") for r in script.requests]
    assert keys[0] and keys[0] == keys[1] == keys[2]
    assert keys[3] and keys[3] != keys[0]  # a new logical call, a new key


def test_queries_carry_no_idempotency_key(waits) -> None:
    script = Script(graphql(ROWS))
    with script.sync() as client:
        client.assets.rows_page("A")
    assert "Idempotency-Key" not in script.requests[0].headers


def test_the_async_client_retries_the_same_way(waits) -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(500),
                    error("RATE_LIMITED", status=429, retryAfter=2), graphql(ROWS))

    async def run() -> list[dict]:
        async with script.async_(max_retries=3) as client:
            return await client.assets.rows("A").to_list()

    assert asyncio.run(run()) == [{"a": 1}]
    assert len(script.requests) == 4 and len(waits) == 3 and waits[2] == 2.0


def test_an_http_date_retry_after_is_understood() -> None:
    from email.utils import format_datetime
    from datetime import datetime, timedelta, timezone

    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= _core.retry_after(httpx.Headers({"Retry-After": when})) <= 30


def test_the_backoff_grows_and_is_capped() -> None:
    delays = [_core.backoff(n) for n in range(10)]
    assert all(d <= _core.MAX_BACKOFF for d in delays) and delays[3] > delays[0]
    assert json.dumps(delays)  # plain floats
