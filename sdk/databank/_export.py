"""Bulk exports: what the sync and async clients share, with no I/O.

``client.assets.export(...)`` runs the ``RequestExport`` mutation (a short-lived signed link),
then downloads ``<base_url><path>`` through the client's own ``httpx`` client. The download with
its resumes is written once, as a generator of actions (``Open``, ``Read``, ``Sleep``) and of
what it hands on (``Deliver``, ``Restart``), driven by ``Client._download`` and
``AsyncClient._download`` with their own I/O, like the request loop of ``_core``.

Resuming: CSV and NDJSON hand on complete records only (a CSV record ends at a newline outside
quotes). When the connection drops, or the stream ends before ``X-Export-Total-Rows``, the same
link is asked again with ``?after_row=<complete rows received>``: the partial last record is
dropped and, for CSV, the repeated header skipped. Parquet cannot be read until complete, so a
drop restarts it from zero (``Restart``: discard what was handed on). Retries follow the client's
policy (``max_retries`` in a row without progress, backoff, ``Retry-After``)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Generator, TextIO
from urllib.parse import unquote

import httpx

from databank import errors
from databank._core import Call, Settings, Sleep, interpret, retry_delay, transport_error, user_agent

FORMATS = ("csv", "ndjson", "parquet")
RESUMABLE = frozenset({"csv", "ndjson"})
SUFFIXES = {"csv": ".csv", "ndjson": ".ndjson", "parquet": ".parquet"}

#: Payload error codes of ``requestExport`` → the exception raised.
_REFUSALS: dict[str, type[errors.APIStatusError]] = {
    "NOT_FOUND": errors.NotFoundError,
    "FORBIDDEN": errors.PermissionDeniedError,
    "INVALID_FILTER": errors.InvalidQueryError,
    "UNKNOWN_COLUMN": errors.InvalidQueryError,
    "COLUMN_NOT_LICENSED": errors.InvalidQueryError,
    "INVALID_FORMAT": errors.InvalidQueryError,
    "FORMAT_UNAVAILABLE": errors.InvalidQueryError,
}


@dataclass(frozen=True)
class ExportLink:
    """What ``requestExport`` answered: a signed link and its terms."""

    url: str
    """The link as the server names it (``<public URL>/exports/<token>``)."""
    path: str
    """``/exports/<token>``: the SDK downloads ``<base_url><path>``."""
    expires_at: datetime | None
    """When the link stops starting downloads (15 minutes; a started download runs to its end)."""
    format: str
    """``csv``, ``ndjson`` or ``parquet``."""
    version: int
    """The asset version exported (pinned when the link was made)."""
    row_estimate: int
    """Rows of the export (filters applied); your quota may cut it short."""

    @classmethod
    def from_api(cls, node: dict) -> "ExportLink":
        expires = node.get("expiresAt")
        return cls(url=node.get("url", ""), path=node["path"],
                   expires_at=datetime.fromisoformat(expires) if expires else None,
                   format=str(node.get("format", "")).lower(), version=int(node["version"]),
                   row_estimate=int(node.get("rowEstimate") or 0))


def export_call(asset_id: str, format: str, where: Any, columns: Any) -> Call:
    """The ``RequestExport`` mutation; its parse raises a payload refusal as an exception."""

    def parse(data: dict, ext: dict) -> ExportLink:
        payload = data.get("requestExport") or {}
        problems = payload.get("errors") or []
        if problems:
            first = problems[0]
            code = first.get("code") or ""
            cls = _REFUSALS.get(code)
            if cls is None:
                from databank.models import field_errors

                raise errors.MutationError("RequestExport", field_errors(payload))
            raise cls(first.get("message") or code, status_code=200, body=data, code=code,
                      errors=[{"message": first.get("message"),
                               "extensions": {"code": code, "field": first.get("field")}}])
        return ExportLink.from_api(payload["export"])

    return Call("RequestExport", {"assetId": asset_id, "format": format.upper(), "where": where,
                                  "columns": columns}, parse=parse, mutation=True)


def check_format(format: str) -> str:
    if not isinstance(format, str) or format.lower() not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    return format.lower()


# ---- actions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Open:
    """Action: send this request as a stream; resume with the ``httpx.Response`` (an error
    answer's body already read) or the ``httpx`` error."""

    request: httpx.Request


@dataclass(frozen=True)
class Read:
    """Action: the open response's next chunk; resume with bytes (``b""`` at its end) or the
    ``httpx`` error."""


@dataclass(frozen=True)
class Deliver:
    """Hand on: bytes of the file (CSV/NDJSON: complete records only)."""

    data: bytes


@dataclass(frozen=True)
class Restart:
    """Hand on: throw away everything delivered so far; the file starts again (Parquet)."""


@dataclass
class DownloadState:
    """What the download knows so far (read by ``Export`` and the progress reporters)."""

    format: str
    total: int | None = None
    """``X-Export-Total-Rows``: rows of the whole export."""
    columns: list[str] = field(default_factory=list)
    """``X-Export-Columns``, decoded."""
    version: int | None = None
    rows_done: int = 0
    """Complete rows handed on (Parquet: known only at the end)."""
    bytes_done: int = 0
    """Bytes handed on (since the last restart)."""
    resumes: int = 0
    """Requests after the first (resumes and restarts)."""
    rows_remaining: int | None = None
    """The quota's rows left after the latest response's first block (``X-RateLimit-Remaining``;
    None for an unlimited plan)."""
    complete: bool = False


def download_request(settings: Settings, path: str, after_row: int) -> httpx.Request:
    """``GET <base_url><path>[?after_row=N]``: the link is the credential, so no key is sent."""
    headers = {"User-Agent": user_agent(), "Accept": "*/*"}
    headers.update({k: v for k, v in settings.default_headers.items()
                    if k.lower() not in ("authorization", "x-api-key")})
    params = {"after_row": str(after_row)} if after_row else None
    return httpx.Request("GET", f"{settings.base_url}{path}", headers=headers, params=params,
                         extensions={"timeout": httpx.Timeout(settings.timeout).as_dict()})


def refusal(response: httpx.Response) -> errors.DatabankError:
    """The exception a download's error answer means (JSON in the GraphQL error shape, else the
    status alone): 401 ``AuthenticationError`` (``reason``: ``expired`` ...), 403, 404, 400
    ``InvalidQueryError``, 429 ``QuotaExceededError``/``RateLimitError`` with ``retry_after``."""
    try:
        interpret(response, _REFUSAL)
    except errors.DatabankError as error:
        return error
    return errors.APIStatusError(f"HTTP {response.status_code}", status_code=response.status_code,
                                 body=response.text, headers=response.headers)


_REFUSAL = Call(name="download", variables={})


class Records:
    """Cuts a byte stream into complete records (NDJSON lines; CSV records, which may hold
    quoted newlines). The first record of a CSV response is its header."""

    def __init__(self, format: str, *, header: bool) -> None:
        self.csv = format == "csv"
        self.header_pending = header and self.csv
        self.pending = b""

    def feed(self, chunk: bytes) -> tuple[bytes, bytes, int]:
        """(the header if it completed now, complete data records, how many) of what came."""
        buffer = self.pending + chunk if self.pending else chunk
        header = b""
        if self.header_pending:
            end = self._first_end(buffer)
            if end < 0:
                self.pending = buffer
                return b"", b"", 0
            header, buffer = buffer[:end], buffer[end:]
            self.header_pending = False
        if self.csv and b'"' in buffer:
            cut, count = self._csv_cut(buffer)
        else:
            cut = buffer.rfind(b"\n") + 1
            count = buffer.count(b"\n", 0, cut)
        self.pending = buffer[cut:]
        return header, buffer[:cut], count

    def _first_end(self, buffer: bytes) -> int:
        if not self.csv or b'"' not in buffer:
            end = buffer.find(b"\n")
            return end + 1 if end >= 0 else -1
        quotes, position = 0, 0
        while True:
            end = buffer.find(b"\n", position)
            if end < 0:
                return -1
            quotes += buffer.count(b'"', position, end)
            if quotes % 2 == 0:
                return end + 1
            position = end + 1

    @staticmethod
    def _csv_cut(buffer: bytes) -> tuple[int, int]:
        """Where the last complete record ends, and how many records end before it: a newline
        ends a record when the record's quotes so far are even (``""`` escapes keep parity)."""
        quotes = position = cut = count = 0
        while True:
            end = buffer.find(b"\n", position)
            if end < 0:
                return cut, count
            quotes += buffer.count(b'"', position, end)
            if quotes % 2 == 0:
                cut, count, quotes = end + 1, count + 1, 0
            position = end + 1


def download_loop(settings: Settings, link: ExportLink, state: DownloadState
                  ) -> Generator[Open | Read | Sleep | Deliver | Restart, Any, None]:
    """The download with its resumes (see the module's docstring); fills ``state``."""
    resumable = state.format in RESUMABLE
    attempt = 0
    header_sent = False
    while True:
        after_row = state.rows_done if resumable else 0
        if state.bytes_done and not resumable:
            yield Restart()
            state.bytes_done = 0
        outcome = yield Open(download_request(settings, link.path, after_row))
        error: errors.DatabankError | None = None
        progressed = False
        if isinstance(outcome, httpx.HTTPError):
            error = transport_error(outcome, attempt + 1)
        elif outcome.status_code != 200:
            error = refusal(outcome)
        else:
            headers = outcome.headers
            if headers.get("x-ratelimit-remaining", "").isdigit():
                state.rows_remaining = int(headers["x-ratelimit-remaining"])
            if headers.get("x-export-total-rows", "").isdigit():
                state.total = int(headers["x-export-total-rows"])
            if headers.get("x-export-columns"):
                state.columns = [unquote(c) for c in headers["x-export-columns"].split(",")]
            version = headers.get("x-export-version")
            if version and version.isdigit():
                if state.version is not None and int(version) != state.version:
                    raise errors.APIStatusError(  # never mix rows of two versions
                        f"the export changed version ({state.version} → {version}) while resuming",
                        status_code=200, headers=headers)
                state.version = int(version)
            records = Records(state.format, header=resumable)
            while True:
                chunk = yield Read()
                if isinstance(chunk, BaseException):
                    error = transport_error(chunk, attempt + 1)
                    break
                if not chunk:
                    break
                if not resumable:
                    state.bytes_done += len(chunk)
                    progressed = True
                    yield Deliver(chunk)
                    continue
                header, data, count = records.feed(chunk)
                if header and not header_sent:
                    header_sent = True
                    state.bytes_done += len(header)
                    yield Deliver(header)
                if data:
                    state.rows_done += count
                    state.bytes_done += len(data)
                    progressed = True
                    yield Deliver(data)
            if error is None:
                if not resumable:
                    state.rows_done = state.total or 0
                    state.complete = True
                    return
                if state.total is None or state.rows_done >= state.total:
                    if records.pending.strip():  # a last record without its newline
                        state.rows_done += 1
                        state.bytes_done += len(records.pending)
                        yield Deliver(records.pending + b"\n")
                    state.complete = True
                    return
                # Ended short: the quota's edge (the resume answers 429) or a cut connection.
                error = errors.APIConnectionError(
                    f"the export ended after {state.rows_done:,} of {state.total:,} rows",
                    attempts=attempt + 1)
        if progressed:
            attempt = 0  # the retry budget counts failures in a row
        delay = retry_delay(settings, error, attempt)
        if delay is None:
            raise error
        state.resumes += 1
        yield Sleep(delay)
        attempt += 1


# ---- progress --------------------------------------------------------------------------------

Reporter = Callable[[DownloadState], None]


def reporter(progress: Any, *, stream: TextIO | None = None) -> "Reporter | None":
    """``progress`` as a reporter: False/None → none; True → a tqdm bar when tqdm is installed,
    else a line on stderr; a callable → called with ``(rows_done, rows_total)``."""
    if progress is None or progress is False:
        return None
    if isinstance(progress, (LineProgress, TqdmProgress)):
        return progress
    if progress is True:
        try:
            import tqdm  # an optional extra: pip install 'databank-sdk[progress]'
        except ImportError:
            return LineProgress(stream or sys.stderr)
        return TqdmProgress(tqdm.tqdm)
    if callable(progress):
        last: list[tuple[int, int | None]] = []

        def call(state: DownloadState) -> None:
            now = (state.rows_done, state.total)
            if not last or last[0] != now:
                last[:] = [now]
                progress(*now)

        return call
    raise TypeError("progress is True, False or a callable(rows_done, rows_total)")


class LineProgress:
    """``export: 12,345 / 1,000,000 rows (1.2 %), 3.4 MB`` rewritten in place (at most 5 times
    a second), a newline when it is done."""

    def __init__(self, stream: TextIO, *, label: str = "export", interval: float = 0.2) -> None:
        self.stream = stream
        self.label = label
        self.interval = interval
        self._shown = 0.0

    def __call__(self, state: DownloadState) -> None:
        now = time.monotonic()
        if not state.complete and now - self._shown < self.interval:
            return
        self._shown = now
        megabytes = f"{state.bytes_done / 1e6:,.1f} MB"
        if state.format in RESUMABLE or state.complete:
            total = state.total or 0
            share = f" ({100 * state.rows_done / total:.1f} %)" if total else ""
            text = f"{self.label}: {state.rows_done:,} / {total:,} rows{share}, {megabytes}"
        else:
            text = f"{self.label}: {megabytes} of {state.total or 0:,} rows"
        self.stream.write("\r" + text + ("\n" if state.complete else ""))
        self.stream.flush()


class TqdmProgress:
    """A ``tqdm`` bar counting rows (bytes for Parquet, whose rows are known at the end)."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.bar: Any = None
        self._at = 0

    def __call__(self, state: DownloadState) -> None:
        if self.bar is None:
            rows = state.format in RESUMABLE
            self.bar = self.factory(total=state.total if rows else None,
                                    unit="rows" if rows else "B", unit_scale=True,
                                    desc=f"export ({state.format})")
        done = state.rows_done if state.format in RESUMABLE else state.bytes_done
        if done != self._at:
            self.bar.update(done - self._at)
            self._at = done
        if state.complete:
            self.bar.close()
