"""Scripted servers for the SDK's ring-1 tests (``httpx.MockTransport``, no server).

A ``Script`` answers requests in order from a list of steps (a response to send, or an
exception to raise) and records what was asked; the same script drives a ``Client`` and an
``AsyncClient``. Waits between retries are recorded, never slept."""

from __future__ import annotations

import json
from typing import Any, Callable

import httpx

import databank

BASE = "http://databank.test"


def graphql(data: Any = None, *, errors: list[dict] | None = None, status: int = 200,
            headers: dict[str, str] | None = None, extensions: dict | None = None) -> httpx.Response:
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    if errors:
        body["errors"] = errors
    if extensions:
        body["extensions"] = extensions
    return httpx.Response(status, json=body, headers=headers)


def error(code: str, message: str = "refused", status: int = 200, **extensions: Any) -> httpx.Response:
    headers = {}
    if "retryAfter" in extensions:
        headers["Retry-After"] = str(extensions["retryAfter"])
    return graphql({"rows": None} if status == 200 else None, status=status, headers=headers,
                   errors=[{"message": message, "extensions": {"code": code, **extensions}}])


Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers each request with the next step; records requests (method, headers, JSON)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected request {len(self.requests)}: {request.content!r}")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return step

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]

    def sync(self, **options: Any) -> databank.Client:
        options.setdefault("api_key", "dbk_test")
        return databank.Client(base_url=BASE, transport=httpx.MockTransport(self), **options)

    def async_(self, **options: Any) -> databank.AsyncClient:
        options.setdefault("api_key", "dbk_test")

        async def handler(request: httpx.Request) -> httpx.Response:
            await request.aread()
            return self(request)

        return databank.AsyncClient(base_url=BASE, transport=httpx.MockTransport(handler),
                                    **options)




# ---- exports -------------------------------------------------------------------------------------

class CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent chunk by chunk that, given ``cut``, breaks after that many bytes
    (``httpx.ReadError``, as a dropped connection does); ``end_early`` ends it cleanly instead."""

    def __init__(self, chunks: list[bytes], cut: int | None = None, *, end_early: bool = False) -> None:
        self.chunks = chunks
        self.cut = cut
        self.end_early = end_early

    def _parts(self) -> list[bytes | Exception]:
        if self.cut is None:
            return list(self.chunks)
        parts: list[bytes | Exception] = []
        left = self.cut
        for chunk in self.chunks:
            if len(chunk) >= left:
                parts.append(chunk[:left])
                break
            parts.append(chunk)
            left -= len(chunk)
        else:
            return parts  # the cut falls past the end: served in full
        if not self.end_early:
            parts.append(httpx.ReadError("connection reset by peer"))
        return parts

    def __iter__(self):
        for part in self._parts():
            if isinstance(part, Exception):
                raise part
            if part:
                yield part

    async def __aiter__(self):
        for part in self._parts():
            if isinstance(part, Exception):
                raise part
            if part:
                yield part


def export_rows(count: int) -> list[dict]:
    """Rows with the awkward bits: Chinese, commas, quotes, newlines inside values, nulls."""
    return [{"序号": n, "企业名称": f"六安{n}号企业, 有限公司" if n % 3 == 0 else f"企业{n}",
             "备注": f'第一行\n第二行 "引号" {n}' if n % 4 == 1 else (None if n % 5 == 0 else f"备注{n}")}
            for n in range(1, count + 1)]


class ExportServer:
    """A scripted data bank for exports: ``requestExport`` answers a link; ``GET /exports/tok``
    streams ``rows`` in ``format`` in blocks (a header chunk first for CSV), honouring
    ``after_row``. ``steps`` script the downloads in order: ``None`` (serve in full), an ``int``
    (cut after that many bytes), ``("end", n)`` (end cleanly after n bytes) or an
    ``httpx.Response`` (a refusal)."""

    def __init__(self, rows: list[dict], format: str, *, block: int = 4, steps: list | None = None,
                 version: int = 3, payload: dict | None = None) -> None:
        self.rows = rows
        self.columns = list(rows[0]) if rows else []
        self.format = format
        self.block = block
        self.steps = list(steps or [])
        self.version = version
        self.payload = payload
        self.after_rows: list[int | None] = []
        self.requests: list[httpx.Request] = []

    def chunks(self, after: int = 0) -> list[bytes]:
        import csv
        import io

        rows = self.rows[after:]
        blocks = [rows[i:i + self.block] for i in range(0, len(rows), self.block)]
        if self.format == "ndjson":
            return [b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in b)
                    for b in blocks]
        if self.format == "csv":
            def text(records: list[list]) -> bytes:
                out = io.StringIO()
                csv.writer(out, lineterminator="\n").writerows(records)
                return out.getvalue().encode("utf-8")

            return [text([self.columns])] + [
                text([["" if r[c] is None else r[c] for c in self.columns] for r in b])
                for b in blocks]
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        table = pa.Table.from_pylist(rows)
        pq.write_table(table, sink, row_group_size=self.block)
        data = sink.getvalue().to_pybytes()
        return [data[i:i + 100] for i in range(0, len(data), 100)]

    def body(self, after: int = 0) -> bytes:
        return b"".join(self.chunks(after))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            variables = json.loads(request.content)["variables"]
            self.variables = variables
            if self.payload is not None:
                return graphql({"requestExport": self.payload})
            return graphql({"requestExport": {"export": {
                "url": f"https://public.example/exports/tok", "path": "/exports/tok",
                "expiresAt": "2026-03-02T10:15:00+08:00", "format": variables["format"],
                "version": self.version, "rowEstimate": len(self.rows)}, "errors": []}})
        assert request.url.path == "/exports/tok"
        assert "x-api-key" not in request.headers and "authorization" not in request.headers
        raw = request.url.params.get("after_row")
        self.after_rows.append(None if raw is None else int(raw))
        after = int(raw or 0)
        step = self.steps.pop(0) if self.steps else None
        if isinstance(step, httpx.Response):
            return step
        from urllib.parse import quote

        headers = {"X-Export-Total-Rows": str(len(self.rows)), "X-Export-After-Row": str(after),
                   "X-Export-Version": str(self.version),
                   "X-Export-Columns": ",".join(quote(c, safe="") for c in self.columns)}
        end_early = isinstance(step, tuple)
        cut = step[1] if end_early else step
        return httpx.Response(200, headers=headers,
                              stream=CutStream(self.chunks(after), cut, end_early=end_early))

    def sync(self, **options: Any) -> databank.Client:
        options.setdefault("api_key", "dbk_test")
        return databank.Client(base_url=BASE, transport=httpx.MockTransport(self), **options)

    def async_(self, **options: Any) -> databank.AsyncClient:
        options.setdefault("api_key", "dbk_test")

        async def handler(request: httpx.Request) -> httpx.Response:
            await request.aread()
            return self(request)

        return databank.AsyncClient(base_url=BASE, transport=httpx.MockTransport(handler),
                                    **options)


def download_refusal(status: int, code: str, message: str = "refused", **extensions: Any) -> httpx.Response:
    headers = {"Retry-After": str(extensions["retryAfter"])} if "retryAfter" in extensions else {}
    return httpx.Response(status, headers=headers, json={"errors": [
        {"message": message, "extensions": {"code": code, **extensions}}]})
