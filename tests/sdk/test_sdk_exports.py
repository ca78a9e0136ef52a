"""Bulk exports in the SDK against a scripted server (``support/sdk_mock.ExportServer``): the link,
the download, resuming after a dropped connection without duplicated or missing rows, Parquet
restarts, refusals, progress, and the async twin."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

import databank
from support.sdk_mock import ExportServer, download_refusal, export_rows

ROWS = export_rows(14)  # blocks of 4: 4 + 4 + 4 + 2


def _csv_rows(data: bytes) -> list[dict]:
    header, *records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return [{c: (v or None) for c, v in zip(header, r)} for r in records]


def _as_text(rows: list[dict]) -> list[dict]:
    return [{k: (None if v is None else str(v)) for k, v in r.items()} for r in rows]


def _two_and_a_half_blocks(server: ExportServer) -> int:
    chunks = server.chunks()
    head = 1 if server.format == "csv" else 0  # the CSV header chunk
    return sum(map(len, chunks[: head + 2])) + len(chunks[head + 2]) // 2


def test_a_request_asks_for_a_signed_link_with_the_format_filter_and_columns(waits) -> None:
    server = ExportServer(ROWS, "ndjson")
    with server.sync() as client:
        export = client.assets.export("A1", format="ndjson", where={"所属区县": "霍山县"},
                                      columns=["序号", "企业名称"])
    assert server.variables == {"assetId": "A1", "format": "NDJSON", "where": {"所属区县": "霍山县"},
                                "columns": ["序号", "企业名称"]}
    assert "idempotency-key" in server.requests[0].headers and server.after_rows == []
    assert (export.link.path, export.link.version, export.total_rows) == ("/exports/tok", 3, 14)


def test_an_ndjson_stream_cut_after_two_and_a_half_blocks_resumes_and_yields_every_row_once(waits) -> None:
    server = ExportServer(ROWS, "ndjson")
    server.steps = [_two_and_a_half_blocks(server)]
    with server.sync() as client:
        export = client.assets.export("A1", format="ndjson")
        rows = list(export.iter_rows())
    assert rows == ROWS
    assert server.after_rows == [None, 9] and len(waits) == 1  # rows 1-9 came whole, 10 in part
    assert (export.state.rows_done, export.state.resumes) == (14, 1)


def test_a_csv_stream_cut_inside_a_quoted_newline_resumes_without_a_second_header(tmp_path: Path, waits) -> None:
    server = ExportServer(ROWS, "csv")
    cut = server.body().index("第二行 \"\"引号\"\" 9".encode()) + 3  # inside row 9's quoted value
    server.steps = [cut]
    with server.sync() as client:
        saved = client.assets.export("A1", format="csv").save(tmp_path / "out.csv")
    data = saved.read_bytes()
    assert data == server.body() and data.count("序号,企业名称,备注".encode()) == 1
    assert _csv_rows(data) == _as_text(ROWS)
    assert server.after_rows == [None, 8]
    assert list(tmp_path.iterdir()) == [saved]  # no partial file is left behind


def test_a_csv_stream_cut_after_two_and_a_half_blocks_iterates_every_row_once(waits) -> None:
    server = ExportServer(ROWS, "csv")
    server.steps = [_two_and_a_half_blocks(server), 5]  # the second cut falls inside the header
    with server.sync() as client:
        rows = list(client.assets.export("A1", format="csv").iter_rows())
    assert rows == _as_text(ROWS)
    assert server.after_rows == [None, 9, 9]


def test_a_stream_that_ends_short_at_the_quota_edge_raises_quota_exceeded_after_the_granted_rows(waits) -> None:
    server = ExportServer(ROWS, "ndjson")
    granted = sum(map(len, server.chunks()[:2]))  # two blocks, then the quota is used up
    server.steps = [("end", granted), download_refusal(
        429, "QUOTA_EXCEEDED", "monthly row quota used up", retryAfter=2_500_000,
        resetAt="2026-04-01T00:00:00+08:00")]
    received = []
    with server.sync() as client, pytest.raises(databank.QuotaExceededError) as raised:
        for row in client.assets.export("A1", format="ndjson").iter_rows():
            received.append(row)
    assert received == ROWS[:8] and server.after_rows == [None, 8]
    assert raised.value.retry_after == 2_500_000 and raised.value.status_code == 429
    assert raised.value.reset_at.isoformat() == "2026-04-01T00:00:00+08:00" and len(waits) == 1


def test_cuts_without_progress_give_up_after_the_configured_retries(waits) -> None:
    server = ExportServer(ROWS, "ndjson")
    server.steps = [3, 3, 3]  # never a complete line
    with server.sync(max_retries=2) as client, pytest.raises(databank.APIConnectionError):
        list(client.assets.export("A1", format="ndjson").iter_rows())
    assert server.after_rows == [None, None, None] and len(waits) == 2


def test_a_cut_parquet_download_restarts_from_zero_into_a_fresh_file(tmp_path: Path, waits) -> None:
    import pyarrow.parquet as pq

    server = ExportServer(ROWS, "parquet")
    server.steps = [len(server.body()) // 2]
    with server.sync() as client:
        export = client.assets.export("A1", format="parquet")
        saved = export.save(tmp_path / "out.parquet")
    assert server.after_rows == [None, None]  # no after_row: Parquet starts again
    assert saved.read_bytes() == server.body()
    assert pq.read_table(saved).to_pylist() == ROWS
    assert list(tmp_path.iterdir()) == [saved] and export.state.rows_done == 14


def test_a_parquet_export_comes_into_pandas_after_a_restart(waits) -> None:
    import pandas
    server = ExportServer(ROWS, "parquet")
    server.steps = [len(server.body()) // 3]
    with server.sync() as client:
        frame = client.assets.export("A1", format="parquet").to_pandas()
    assert isinstance(frame, pandas.DataFrame) and list(frame.columns) == ["序号", "企业名称", "备注"]
    assert frame["序号"].tolist() == list(range(1, 15)) and len(server.after_rows) == 2


@pytest.mark.parametrize("format", ["csv", "ndjson"])
def test_a_cut_csv_or_ndjson_export_streams_into_pandas_with_every_row_once(format, waits) -> None:
    server = ExportServer(ROWS, format)
    server.steps = [_two_and_a_half_blocks(server)]
    with server.sync() as client:
        frame = client.assets.export("A1", format=format).to_pandas()
    assert len(frame) == 14 and list(frame.columns) == ["序号", "企业名称", "备注"]
    assert [str(n) for n in frame["序号"]] == [str(n) for n in range(1, 15)]
    assert frame["企业名称"].tolist() == [r["企业名称"] for r in ROWS]
    assert frame["备注"].iloc[0] == '第一行\n第二行 "引号" 1' and server.after_rows == [None, 9]


@pytest.mark.parametrize("refusal, exception, check", [
    (download_refusal(401, "UNAUTHENTICATED", "the link expired", reason="expired"),
     databank.AuthenticationError, lambda e: e.reason == "expired"),
    (download_refusal(403, "FORBIDDEN", "the subscription was revoked"),
     databank.PermissionDeniedError, lambda e: e.status_code == 403),
    (download_refusal(404, "NOT_FOUND", "the asset was withdrawn"),
     databank.NotFoundError, lambda e: e.status_code == 404),
    (download_refusal(400, "BAD_USER_INPUT", "after_row is a whole number"),
     databank.InvalidQueryError, lambda e: isinstance(e, ValueError)),
    (download_refusal(429, "QUOTA_EXCEEDED", "used up", retryAfter=2_000_000,
                      resetAt="2026-04-01T00:00:00+08:00"),
     databank.QuotaExceededError, lambda e: e.retry_after == 2_000_000 and e.reset_at.month == 4),
], ids=["401-expired", "403", "404", "400", "429-quota"])
def test_a_refused_download_raises_the_mapped_error_without_retrying(refusal, exception, check, waits) -> None:
    server = ExportServer(ROWS, "ndjson", steps=[refusal])
    with server.sync() as client, pytest.raises(exception) as raised:
        list(client.assets.export("A1", format="ndjson").iter_rows())
    assert check(raised.value) and len(server.after_rows) == 1 and waits == []


def test_a_rate_limited_download_waits_out_retry_after_then_streams(waits) -> None:
    server = ExportServer(ROWS, "ndjson", steps=[download_refusal(429, "RATE_LIMITED", "slow down",
                                                                  retryAfter=7)])
    with server.sync() as client:
        assert list(client.assets.export("A1", format="ndjson").iter_rows()) == ROWS
    assert waits == [7.0] and server.after_rows == [None, None]


@pytest.mark.parametrize("code, exception", [
    ("INVALID_FILTER", databank.InvalidQueryError), ("UNKNOWN_COLUMN", databank.InvalidQueryError),
    ("FORBIDDEN", databank.PermissionDeniedError), ("NOT_FOUND", databank.NotFoundError),
    ("FORMAT_UNAVAILABLE", databank.InvalidQueryError)])
def test_a_refused_link_raises_the_mapped_error_at_once(code, exception, waits) -> None:
    server = ExportServer(ROWS, "csv", payload={"export": None, "errors": [
        {"field": "where", "message": f"refused: {code}", "code": code}]})
    with server.sync() as client, pytest.raises(exception, match=code) as raised:
        client.assets.export("A1", where={"血型": "A"})
    assert raised.value.code == code and len(server.requests) == 1


def test_a_format_outside_the_three_is_a_value_error_before_any_request() -> None:
    server = ExportServer(ROWS, "csv")
    with server.sync() as client, pytest.raises(ValueError, match="xlsx"):
        client.assets.export("A1", format="xlsx")
    assert server.requests == []


def test_a_progress_callable_sees_rows_done_rise_to_the_total_across_a_resume(waits) -> None:
    server = ExportServer(ROWS, "ndjson")
    server.steps = [_two_and_a_half_blocks(server)]
    seen: list[tuple[int, int | None]] = []
    with server.sync() as client:
        list(client.assets.export("A1", format="ndjson",
                                  progress=lambda done, total: seen.append((done, total))).iter_rows())
    assert seen[0] == (0, None) and seen[-1] == (14, 14)
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(set(done)) == len(done) and (8, 14) in seen


def test_progress_true_without_tqdm_writes_a_line_to_stderr(monkeypatch, capsys, waits) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # not installed
    server = ExportServer(ROWS, "csv")
    with server.sync() as client:
        list(client.assets.export("A1", format="csv", progress=True).iter_rows())
    err = capsys.readouterr().err
    assert err.endswith("export: 14 / 14 rows (100.0 %), 0.0 MB\n")


def test_progress_true_with_tqdm_drives_a_bar_to_the_total(monkeypatch, waits) -> None:
    import sys
    import types

    bars = []

    class Bar:
        def __init__(self, **options) -> None:
            self.options, self.n, self.closed = options, 0, False
            bars.append(self)

        def update(self, n: int) -> None:
            self.n += n

        def close(self) -> None:
            self.closed = True

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=Bar))
    server = ExportServer(ROWS, "ndjson")
    server.steps = [_two_and_a_half_blocks(server)]
    with server.sync() as client:
        list(client.assets.export("A1", format="ndjson", progress=True).iter_rows())
    (bar,) = bars
    assert (bar.n, bar.closed, bar.options["unit"]) == (14, True, "rows")


def test_the_async_export_resumes_a_cut_stream_like_the_sync_one(tmp_path: Path, waits) -> None:
    server = ExportServer(ROWS, "ndjson")
    server.steps = [_two_and_a_half_blocks(server), None, _two_and_a_half_blocks(server)]

    async def pull() -> tuple[list[dict], bytes]:
        async with server.async_() as client:
            export = await client.assets.export("A1", format="ndjson")
            assert isinstance(export, databank.AsyncExport)
            rows = [row async for row in export.iter_rows()]
            saved = await export.save(tmp_path / "rows.ndjson")
            return rows, saved.read_bytes()

    rows, data = asyncio.run(pull())
    assert rows == ROWS and [json.loads(line) for line in data.splitlines()] == ROWS
    assert server.after_rows == [None, 9, None, 9] and len(waits) == 2


def test_the_async_export_comes_into_pandas(waits) -> None:
    server = ExportServer(ROWS, "parquet")
    server.steps = [len(server.body()) // 2]

    async def pull():
        async with server.async_() as client:
            return await (await client.assets.export("A1", format="parquet")).to_pandas()

    frame = asyncio.run(pull())
    assert frame["序号"].tolist() == list(range(1, 15)) and server.after_rows == [None, None]


def test_a_download_sends_the_user_agent_and_no_credentials(waits) -> None:
    server = ExportServer(ROWS, "csv")
    with server.sync(default_headers={"X-Trace": "t1", "Authorization": "Bearer x"}) as client:
        list(client.assets.export("A1").iter_rows())
    download = server.requests[-1]
    assert download.headers["user-agent"].startswith("databank-sdk/")
    assert download.headers["x-trace"] == "t1" and "authorization" not in download.headers
    assert download.url.host == "databank.test"  # the client's base URL, not the link's host
