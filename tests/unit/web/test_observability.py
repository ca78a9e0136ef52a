"""What operators see: request ids (header, errors, logs, across the worker-thread hop), the
access log line, ``/metrics`` (who may read it, what it counts), ``/readyz``."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timezone

import anyio
import pytest
from anyio import to_thread
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from marketplace.bootstrap import DataBank, build_in_memory
from marketplace.metering.sqlite_ledger import SQLiteQuotaLedger
from marketplace.observability.metrics import webhook_outcome
from marketplace.settings import Settings
from marketplace.web.app import create_app
from marketplace.web.metrics import RequestMetrics
from marketplace.web.observability import (
    REQUEST_ID,
    RequestIdFilter,
    access_log,
    log_formatter,
    request_id_from,
)
from support.marketplace import ADMIN, credit_code

LOOPBACK = ("127.0.0.1", 40000)
OUTSIDE = ("203.0.113.9", 40000)
GENERATED = re.compile(r"[0-9a-f]{24}")
MISSING_ROWS = 'query MissingRows { rows(assetId: "no-such-asset", first: 1) { rows } }'


@pytest.fixture
def bank() -> Iterator[DataBank]:
    yield build_in_memory(Settings(escalation_interval_seconds=0))


@pytest.fixture
def http(bank: DataBank) -> Iterator[TestClient]:
    with TestClient(create_app(bank), client=LOOPBACK) as client:
        yield client


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The JSON log lines written while the test runs (the production formatter and filter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter("json"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level, old_access = root.level, access_log.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    access_log.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        access_log.setLevel(old_access)


def _records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# --- request ids ------------------------------------------------------------------------------

def test_a_sane_request_id_is_echoed_and_anything_else_is_replaced() -> None:
    assert request_id_from("abc.DEF_123-x") == "abc.DEF_123-x"
    assert request_id_from("a" * 64) == "a" * 64
    for bad in (None, "", "a" * 65, "two words", "line\nbreak", "ünïcode", "x;drop"):
        replaced = request_id_from(bad)
        assert GENERATED.fullmatch(replaced), (bad, replaced)
    assert request_id_from(None) != request_id_from(None)


def test_every_response_carries_the_request_id_header(http: TestClient) -> None:
    given = http.get("/healthz", headers={"X-Request-Id": "trace-42"})
    assert given.headers["X-Request-Id"] == "trace-42"
    forged = http.get("/healthz", headers={"X-Request-Id": "evil\tline " + "x" * 80})
    assert GENERATED.fullmatch(forged.headers["X-Request-Id"])
    assert GENERATED.fullmatch(http.get("/no-such-page").headers["X-Request-Id"])


def test_a_resolver_error_carries_the_request_id_in_its_extensions(http: TestClient) -> None:
    response = http.post("/graphql", json={"query": MISSING_ROWS}, headers={"X-Request-Id": "r-1"})
    errors = response.json()["errors"]
    assert errors and all(e["extensions"]["requestId"] == "r-1" for e in errors), errors
    assert all("code" in e["extensions"] for e in errors)


def test_refusals_before_execution_carry_the_request_id_too(http: TestClient) -> None:
    # Cached refusals (a parse error's bytes are kept per query text) get each request's own id.
    for request_id in ("first", "second"):
        response = http.post("/graphql", json={"query": "{ nope"}, headers={"X-Request-Id": request_id})
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED", "requestId": request_id}
    bad_token = http.post("/graphql", json={"query": "{ viewer { id } }"},
                          headers={"Authorization": "Bearer not-a-token", "X-Request-Id": "t-1"})
    assert bad_token.status_code == 401
    assert bad_token.json()["errors"][0]["extensions"]["requestId"] == "t-1"
    assert int(bad_token.headers["content-length"]) == len(bad_token.content)


def test_a_non_graphql_json_error_names_the_request_id(http: TestClient) -> None:
    response = http.post("/webhooks/stripe", content=b"{}", headers={"X-Request-Id": "w-1"})
    assert response.status_code == 404  # no webhook secret in this bank
    assert response.json() == {"error": "Stripe webhooks are not configured", "requestId": "w-1"}


# --- logs -------------------------------------------------------------------------------------

def test_the_request_id_survives_the_hop_to_a_worker_thread(captured: io.StringIO) -> None:
    """anyio copies the context into to_thread's workers: a service logging on one of them
    (where the endpoint runs operations) logs with the request's id."""
    seen: list[str | None] = []

    def in_thread() -> None:
        seen.append(REQUEST_ID.get())
        logging.getLogger("databank.some_service").warning("working on it")

    async def request() -> None:
        token = REQUEST_ID.set("hop-7")
        try:
            await to_thread.run_sync(in_thread)
        finally:
            REQUEST_ID.reset(token)

    anyio.run(request)
    assert seen == ["hop-7"]
    [record] = [r for r in _records(captured) if r["logger"] == "databank.some_service"]
    assert record["request_id"] == "hop-7" and record["message"] == "working on it"
    assert record["level"] == "WARNING"
    assert datetime.fromisoformat(record["time"]).tzinfo is not None


def test_the_access_line_is_one_json_object_with_the_request_fields(
        http: TestClient, captured: io.StringIO) -> None:
    http.post("/graphql", json={"query": MISSING_ROWS}, headers={"X-Request-Id": "acc-1"})
    lines = [r for r in _records(captured) if r["logger"] == "databank.access"]
    [line] = [r for r in lines if r["request_id"] == "acc-1"]
    assert line["method"] == "POST" and line["path"] == "/graphql" and line["status"] == 200
    assert line["operation"] == "MissingRows"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert {"time", "level", "message"} <= line.keys()


def test_records_outside_a_request_have_no_request_id(captured: io.StringIO) -> None:
    logging.getLogger("databank.startup").warning("starting")
    [record] = [r for r in _records(captured) if r["logger"] == "databank.startup"]
    assert record["request_id"] is None


def test_an_unknown_log_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="json or text"):
        log_formatter("xml")
    with pytest.raises(ValueError, match="DATABANK_LOG_FORMAT"):
        Settings.from_env({"DATABANK_LOG_FORMAT": "yaml"})
    assert Settings.from_env({"DATABANK_ENV": "production"}).log_format == "json"
    assert Settings.from_env({}).log_format == "text"


# --- metrics ----------------------------------------------------------------------------------

def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_refused_to_addresses_not_allowed(bank: DataBank) -> None:
    with TestClient(create_app(bank), client=OUTSIDE) as outside:
        response = outside.get("/metrics")
    assert response.status_code == 403 and "DATABANK_METRICS_ALLOW" in response.json()["error"]
    with TestClient(create_app(bank), client=("testclient", 1)) as unnamed:
        assert unnamed.get("/metrics").status_code == 403  # not an address: never allowed


def test_an_allowed_network_reads_the_metrics(bank: DataBank) -> None:
    settings = Settings(escalation_interval_seconds=0, metrics_allow=("203.0.113.0/24",))
    bank2 = build_in_memory(settings)
    with TestClient(create_app(bank2), client=OUTSIDE) as outside:
        assert outside.get("/metrics").status_code == 200
    with TestClient(create_app(bank2), client=LOOPBACK) as loopback:
        assert loopback.get("/metrics").status_code == 403
    with pytest.raises(ValueError, match="DATABANK_METRICS_ALLOW"):
        Settings.from_env({"DATABANK_METRICS_ALLOW": "10.0.0.0/8, everyone"})
    assert Settings.from_env({"DATABANK_METRICS_ALLOW": "none"}).metrics_allow == ()


def test_requests_are_counted_by_route_and_operation(http: TestClient) -> None:
    before = _sample("databank_graphql_requests_total", operation="MissingRows", status="200")
    before_http = _sample("databank_http_requests_total", route="/graphql", status="200")
    before_parse = _sample("databank_graphql_requests_total", operation="unknown", status="400")
    http.post("/graphql", json={"query": MISSING_ROWS})
    http.post("/graphql", json={"query": MISSING_ROWS})
    http.post("/graphql", json={"query": "{ nope"})
    assert _sample("databank_graphql_requests_total", operation="MissingRows", status="200") == before + 2
    assert _sample("databank_http_requests_total", route="/graphql", status="200") == before_http + 2
    assert _sample("databank_graphql_requests_total", operation="unknown", status="400") == before_parse + 1
    text = http.get("/metrics").text
    assert 'databank_graphql_request_duration_seconds_count{operation="MissingRows"}' in text
    assert 'databank_projection_lag_events{follower="' in text


def test_operation_names_are_bounded() -> None:
    metrics = RequestMetrics(max_operation_names=2)
    assert [metrics.operation_label(n) for n in ("A", "B", "C", "A", None)] == \
        ["A", "B", "other", "A", "anonymous"]


def test_unmatched_paths_share_one_label(http: TestClient) -> None:
    before = _sample("databank_http_requests_total", route="unmatched", status="404")
    http.get("/random-scanner-path-1")
    http.get("/random-scanner-path-2")
    assert _sample("databank_http_requests_total", route="unmatched", status="404") == before + 2


def test_quota_refusals_are_counted_by_kind() -> None:
    ledger = SQLiteQuotaLedger(":memory:")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    before = {kind: _sample("databank_quota_refusals_total", kind=kind) for kind in ("quota", "rate")}
    try:
        terms = dict(calls_quota=None, rate_limit_per_minute=None, now=now)
        assert ledger.reserve("s-1", "2026-03", rows_wanted=5, rows_quota=5, **terms).allowed
        assert not ledger.reserve("s-1", "2026-03", rows_wanted=1, rows_quota=5, **terms).allowed
        rated = dict(rows_quota=None, calls_quota=None, rate_limit_per_minute=1, now=now)
        assert ledger.reserve("s-2", "2026-03", rows_wanted=1, **rated).allowed
        assert not ledger.reserve("s-2", "2026-03", rows_wanted=1, **rated).allowed
    finally:
        ledger.close()
    assert _sample("databank_quota_refusals_total", kind="quota") == before["quota"] + 1
    assert _sample("databank_quota_refusals_total", kind="rate") == before["rate"] + 1


def test_ledger_batches_are_observed() -> None:
    ledger = SQLiteQuotaLedger(":memory:")
    before = _sample("databank_ledger_commit_batch_size_count")
    waits = _sample("databank_ledger_commit_wait_seconds_count")
    try:
        ledger.reserve("s-1", "2026-03", rows_wanted=1, rows_quota=None, calls_quota=None,
                       rate_limit_per_minute=None, now=datetime.now(timezone.utc))
    finally:
        ledger.close()
    assert _sample("databank_ledger_commit_batch_size_count") == before + 1
    assert _sample("databank_ledger_commit_wait_seconds_count") == waits + 1


def test_webhook_outcomes_are_bounded_labels() -> None:
    assert webhook_outcome("applied (evt_123)") == "applied"
    assert webhook_outcome("ignored: not one of our subscriptions") == "ignored"
    assert webhook_outcome("something new") == "other"


# --- readiness --------------------------------------------------------------------------------

def test_readyz_is_200_when_every_store_answers(http: TestClient) -> None:
    response = http.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert {"events:catalogue", "events:market", "datastore", "ledger"} <= body["checks"].keys()
    assert set(body["checks"].values()) == {"ok"}


def test_readyz_is_503_naming_a_read_model_that_lags(bank: DataBank) -> None:
    settings_bank = build_in_memory(Settings(escalation_interval_seconds=0, ready_max_lag=0))
    app = create_app(settings_bank, start_followers=False)
    with TestClient(app, client=LOOPBACK) as client:
        settings_bank.catalogue.register_department(code=credit_code(1, "11341500"),
                                                    name="六安市交通运输局", contact="", by=ADMIN)
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        name = f"projection:{settings_bank.catalogue_follower.name}"
        assert body["notReady"] == [name] and "events behind" in body["checks"][name]
        settings_bank.catalogue_follower.catch_up()
        assert client.get("/readyz").status_code == 200


def test_readyz_is_503_naming_a_store_that_does_not_answer(bank: DataBank,
                                                          http: TestClient) -> None:
    bank.ledger.close()
    bank.ledger._read.close()  # the ledger's database is gone
    response = http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["notReady"] == ["ledger"]
    assert body["checks"]["ledger"].startswith("failed: ")
