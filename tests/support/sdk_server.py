"""A real data bank in the test process for the SDK's ring-2 tests, reachable two ways: a sync
``httpx`` transport onto Starlette's TestClient (which runs the app's lifespan), and
``httpx.ASGITransport`` for the async client. Requests are counted."""

from __future__ import annotations

import io

import httpx

from domain.actors import Actor, Role
from support.catalogue import sample_metadata
from support.marketplace import REVIEWER


class StarletteTransport(httpx.BaseTransport):
    """Sends ``httpx`` requests through a Starlette ``TestClient`` (an httpx2 client)."""

    def __init__(self, test_client) -> None:
        self.test_client = test_client
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.test_client.request(request.method, str(request.url),
                                          headers=dict(request.headers), content=request.read())
        return httpx.Response(answer.status_code, headers=list(answer.headers.multi_items()),
                              content=answer.content)


class CountingASGITransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` that counts the requests it carries."""

    def __init__(self, app) -> None:
        super().__init__(app=app)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await super().handle_async_request(request)


def publish_rows(bank, publisher: Actor, name: str, rows: int) -> str:
    """Publishes an unconditionally open asset of ``rows`` bus stops; returns its id."""
    catalogue = bank.catalogue
    asset = catalogue.register_asset(department_id=publisher.department_id,
                                     metadata=sample_metadata(name=name), by=publisher)
    lines = ["站点编号,站点名称,经度,纬度"] + [
        f"LB{n:04d},站点{n},116.{n:04d},31.{n:04d}" for n in range(rows)]
    asset, number = catalogue.upload_version(str(asset.id), io.BytesIO("\n".join(lines).encode()),
                                             source_format="csv", by=publisher)
    catalogue.submit_for_review(str(asset.id), number, by=publisher)
    catalogue.approve(str(asset.id), reason="核查通过", by=REVIEWER)
    catalogue.publish(str(asset.id), number, by=publisher)
    return str(asset.id)


def demo_key(server) -> str:
    """The demo startup's API key, which ``databank demo`` keeps in the data directory."""
    return (server.data_dir / "demo-api-key.txt").read_text(encoding="utf-8").strip()
