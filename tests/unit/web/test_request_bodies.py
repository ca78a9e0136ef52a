"""Request bodies are capped by route and read only when worth reading (issue 9: a 300 MB webhook
body took the server from 155 MB to 1.26 GB, and a 300 MB upload was spooled for an anonymous
caller). Each attack streams its body lazily and counts how much of it the server pulled."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette

from domain.actors import Role
from marketplace.bootstrap import DataBank, build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from marketplace.web.webhooks import stripe_webhook_route
from support.api import operation
from support.marketplace import ADMIN, PASSWORD, member_with_organisation, set_up_market

MB = 2**20
CHUNK = 64 * 1024
HUGE = 300 * MB


class Stream:
    """An ASGI ``receive`` that makes up a body of ``size`` bytes chunk by chunk, as a client
    would send it, and counts what the app pulled."""

    def __init__(self, size: int, head: bytes = b"", filler: bytes = b"x") -> None:
        self.size = size
        self.head = head
        self.filler = filler * CHUNK
        self.pulled = 0

    async def __call__(self) -> dict:
        if self.pulled >= self.size:
            return {"type": "http.disconnect"}
        if self.pulled == 0 and self.head:
            piece = self.head
        else:
            piece = self.filler[:min(CHUNK, self.size - self.pulled)]
        self.pulled += len(piece)
        return {"type": "http.request", "body": piece, "more_body": self.pulled < self.size}


def call(app: Any, path: str, stream: Stream, headers: dict[str, str]) -> tuple[int, dict, int]:
    """POST ``stream`` to ``app``; returns status, JSON body and the peak of traced memory."""
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "http_version": "1.1", "scheme": "http",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "server": ("test", 80), "client": ("127.0.0.1", 1234), "root_path": "",
             "state": {}}
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    tracemalloc.start()
    try:
        asyncio.run(app(scope, stream, send))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], orjson.loads(body), peak


# --- the Stripe webhook --------------------------------------------------------------------


@pytest.fixture
def webhook() -> Starlette:
    return Starlette(routes=[stripe_webhook_route(object(), "whsec_test")])  # type: ignore[arg-type]


def test_a_300_mb_webhook_body_is_refused_after_reading_at_most_the_cap(webhook) -> None:
    stream = Stream(HUGE, b'{"id": "evt_1", "type": "invoice.paid", "pad": "')
    status, body, peak = call(webhook, "/webhooks/stripe", stream,
                              {"content-type": "application/json", "stripe-signature": "t=1,v1=x"})
    assert status == 413 and "1 MB" in body["error"]
    assert stream.pulled <= MB + CHUNK
    assert peak < 8 * MB  # the process did not grow with the body


def test_a_webhook_body_declared_over_the_cap_is_refused_unread(webhook) -> None:
    stream = Stream(HUGE)
    status, _, _ = call(webhook, "/webhooks/stripe", stream,
                        {"content-type": "application/json", "content-length": str(HUGE)})
    assert status == 413 and stream.pulled == 0


def test_a_webhook_body_under_the_cap_goes_on_to_the_signature_check(webhook) -> None:
    stream = Stream(MB - 10, b'{"id": "evt_1", "pad": "')
    status, body, _ = call(webhook, "/webhooks/stripe", stream,
                           {"content-type": "application/json", "stripe-signature": "t=1,v1=x"})
    assert status == 400 and "signature" in body["error"]
    assert stream.pulled == MB - 10


# --- /graphql ------------------------------------------------------------------------------


@pytest.fixture
def bank() -> Iterator[DataBank]:
    built = build_in_memory(Settings(escalation_interval_seconds=0, max_upload_bytes=4 * MB))
    yield built


def test_a_300_mb_json_graphql_body_is_refused_after_reading_at_most_the_cap(bank) -> None:
    stream = Stream(HUGE, b'{"query": "{ viewer { id } }", "pad": "')
    status, body, peak = call(create_app(bank), "/graphql", stream,
                              {"content-type": "application/json"})
    assert status == 413
    extensions = body["errors"][0]["extensions"]
    assert extensions.pop("requestId")  # every error names its request (web/observability.py)
    assert extensions == {"code": "PAYLOAD_TOO_LARGE", "limitBytes": MB}
    assert stream.pulled <= MB + CHUNK
    assert peak < 8 * MB


def _multipart(bank: DataBank, stream: Stream, credential: str | None) -> tuple[int, dict]:
    headers = {"content-type": "multipart/form-data; boundary=b0undary", "graphql-preflight": "1"}
    if credential:
        headers["authorization"] = f"Bearer {credential}"
    status, body, _ = call(create_app(bank), "/graphql", stream, headers)
    return status, body


def _upload_head(asset_id: str = "a") -> bytes:
    operations = orjson.dumps({"query": operation("UploadVersion"),
                               "variables": {"assetId": asset_id, "file": None}}).decode()
    return (f'--b0undary\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}'
            f'\r\n--b0undary\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
            '{"0": ["variables.file"]}\r\n--b0undary\r\nContent-Disposition: form-data; '
            'name="0"; filename="rows.csv"\r\nContent-Type: text/csv\r\n\r\n').encode()


def _token(bank: DataBank, role: Role, department_id: str | None = None) -> str:
    token, _ = bank.tokens.issue(subject=f"{role.value}-1", name="某人", role=role.value,
                                 department_id=department_id)
    return token


def test_an_anonymous_upload_is_refused_before_a_byte_is_spooled(bank) -> None:
    stream = Stream(HUGE, _upload_head())
    status, body = _multipart(bank, stream, None)
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert stream.pulled == 0


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMIN, Role.REVIEWER])
def test_an_upload_by_anyone_but_a_publisher_is_refused_before_a_byte_is_spooled(
        bank, role: Role) -> None:
    stream = Stream(HUGE, _upload_head())
    status, body = _multipart(bank, stream, _token(bank, role))
    assert status == 403 and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert stream.pulled == 0


def test_an_upload_with_a_bad_token_is_refused_before_a_byte_is_spooled(bank) -> None:
    stream = Stream(HUGE, _upload_head())
    status, body = _multipart(bank, stream, "not-a-token")
    assert status == 401 and stream.pulled == 0


def test_an_upload_with_an_api_key_is_refused_before_a_byte_is_spooled(bank) -> None:
    member, organisation = member_with_organisation(bank)
    _, key = bank.api_keys.create_api_key(organisation, name="k", scopes=["rows:read"],
                                             by=member)
    bank.entitlements_follower.catch_up()
    stream = Stream(HUGE, _upload_head())
    status, _ = _multipart(bank, stream, key)
    assert status == 403 and stream.pulled == 0


def test_a_publishers_upload_is_read_up_to_the_upload_cap(bank) -> None:
    market = set_up_market(bank)
    token = _token(bank, Role.PUBLISHER, market.publisher.department_id)
    stream = Stream(HUGE, _upload_head(market.assets["unconditional"]))
    status, body = _multipart(bank, stream, token)
    assert status == 413 and body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert 4 * MB < stream.pulled <= 4 * MB + CHUNK


def test_a_publisher_still_uploads_a_version(bank) -> None:
    from starlette.testclient import TestClient

    from support.api import GraphQLTestClient

    market = set_up_market(bank)
    bank.staff.open_account(username="pub1", name="发布员", role=Role.PUBLISHER, password=PASSWORD,
                            department_id=market.publisher.department_id, by=ADMIN)
    client = GraphQLTestClient(TestClient(create_app(bank)))
    client.login("pub1", PASSWORD)
    csv = "站点编号,站点名称,经度,纬度\nLA0009,新站,116.5,31.7\n".encode()
    response = client.upload(market.assets["unconditional"], csv)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["uploadVersion"]["errors"] == []
