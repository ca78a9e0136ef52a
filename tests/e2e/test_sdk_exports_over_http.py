"""Ring 2 over loopback for exports (issue 5): the SDK against ``databank serve`` seeded with
``databank demo --enterprise-rows 20000``, as the demo startup's developer with the free key
(100,000 rows a month, masked tier): the registry comes into pandas in each format equal to its
``rows`` pages, and a connection cut mid-stream is resumed without duplicates or gaps.

The free quota is shared by the module's tests: rows pages (20,000) + three exports (60,000) +
the filtered resume (a few thousand) stay under it."""

from __future__ import annotations

import math

import httpx
import pytest

import databank
from support.sdk_server import demo_key

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ENTERPRISE_ROWS = 20_000


@pytest.fixture(scope="module")
def registry(enterprise_server) -> tuple[str, list[dict]]:
    """The registry's id and its rows as the ``rows`` pages give them (read once)."""
    with databank.Client(demo_key(enterprise_server), base_url=enterprise_server.base_url) as client:
        (asset,) = [a for a in client.catalogue.search("企业", category="enterprise")
                    if a.name == "六安市企业登记信息"]
        rows = list(client.assets.rows(asset.id))
    assert len(rows) == ENTERPRISE_ROWS
    return asset.id, rows


def _text(value):
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _texts(rows: list[dict]) -> list[dict]:
    return [{k: _text(v) for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("format", ["parquet", "csv", "ndjson"])
def test_the_enterprise_registry_comes_into_pandas_equal_to_its_rows_pages(enterprise_server, registry,
                                                                            format) -> None:
    asset_id, rows = registry
    seen: list[tuple[int, int | None]] = []
    with databank.Client(demo_key(enterprise_server), base_url=enterprise_server.base_url) as client:
        export = client.assets.export(asset_id, format=format,
                                      progress=lambda done, total: seen.append((done, total)))
        frame = export.to_pandas()
    assert len(frame) == ENTERPRISE_ROWS and list(frame.columns) == list(rows[0])
    assert _texts(frame.to_dict("records")) == _texts(rows)
    assert seen[-1] == (ENTERPRISE_ROWS, ENTERPRISE_ROWS) and export.state.resumes == 0


class _CutOnce(httpx.HTTPTransport):
    """A real loopback transport whose first export download breaks after ``cut`` bytes."""

    def __init__(self, cut: int) -> None:
        super().__init__()
        self.cut = cut
        self.downloads: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if "/exports/" not in request.url.path:
            return response
        self.downloads.append(request.url.params.get("after_row", ""))
        if len(self.downloads) > 1:
            return response
        inner, cut = response.stream, self.cut

        class Broken(httpx.SyncByteStream):
            def __iter__(self):
                sent = 0
                for chunk in inner:
                    if sent + len(chunk) >= cut:
                        yield chunk[: cut - sent]
                        raise httpx.ReadError("connection reset by peer")
                    sent += len(chunk)
                    yield chunk

            def close(self) -> None:
                inner.close()

        return httpx.Response(response.status_code, headers=response.headers, stream=Broken(),
                              extensions=response.extensions)


@pytest.mark.parametrize("format", ["csv", "ndjson"])
def test_a_download_cut_mid_stream_over_loopback_resumes_with_every_row_once(enterprise_server, registry,
                                                                              format, monkeypatch) -> None:
    from databank import _client

    monkeypatch.setattr(_client, "_sleep", lambda seconds: None)
    asset_id, rows = registry
    where = {"所属区县": "霍山县"}
    expected = [r for r in rows if r["所属区县"] == "霍山县"]
    transport = _CutOnce(cut=150_000)
    with databank.Client(demo_key(enterprise_server), base_url=enterprise_server.base_url,
                         transport=transport) as client:
        export = client.assets.export(asset_id, format=format, where=where)
        received = list(export.iter_rows())
    assert len(expected) > 500 and export.state.resumes == 1
    assert transport.downloads[0] == "" and 0 < int(transport.downloads[1]) < len(expected)
    assert _texts(received) == _texts(expected)
