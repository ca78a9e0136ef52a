"""``Export`` and ``AsyncExport``: a bulk export of an asset, ready to download.

::

    export = client.assets.export(asset_id, format="parquet", progress=True)
    df = export.to_pandas()          # or export.save("registry.parquet"), export.iter_rows()

Each method downloads the export again (the link lives 15 minutes for starting downloads);
memory stays a chunk whatever the size: ``save`` writes as it receives, ``iter_rows`` parses as
it receives, ``to_pandas`` streams CSV/NDJSON into pandas and reads Parquet from a temporary
file. pandas and pyarrow are optional extras (``databank-sdk[pandas]``, ``databank-sdk[parquet]``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator

from databank._export import Deliver, DownloadState, ExportLink, Reporter, Restart

if TYPE_CHECKING:
    from databank._client import AsyncClient, Client

CSV_CHUNK_ROWS = 100_000


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # an optional extra, never a dependency
        raise ImportError("to_pandas needs pandas: pip install 'databank-sdk[pandas]'") from exc
    return pandas


def _parquet() -> Any:
    try:
        import pyarrow.parquet
    except ImportError as exc:
        raise ImportError("reading Parquet needs pyarrow: pip install 'databank-sdk[parquet]' "
                          "(or export as CSV or NDJSON)") from exc
    return pyarrow.parquet


class _Spool:
    """A file being downloaded into: a temporary file next to ``target`` (or in the temp
    directory), started afresh on a restart, moved onto ``target`` when complete."""

    def __init__(self, target: Path | None, suffix: str) -> None:
        self.target = target
        self.suffix = suffix
        self.path: Path | None = None
        self.handle: Any = None
        self._open()

    def _open(self) -> None:
        directory = self.target.parent if self.target is not None else None
        prefix = (self.target.name if self.target is not None else "databank-export") + "."
        descriptor, name = tempfile.mkstemp(suffix=self.suffix + ".part", prefix=prefix,
                                            dir=directory)
        self.path = Path(name)
        self.handle = os.fdopen(descriptor, "wb")

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def restart(self) -> None:
        self.discard()
        self._open()

    def finish(self) -> Path:
        self.handle.close()
        assert self.path is not None
        if self.target is None:
            return self.path
        os.replace(self.path, self.target)
        return self.target

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.path is not None and self.path.exists():
            self.path.unlink()


class _RowParser:
    """Complete records of CSV or NDJSON in, rows (dicts) out. CSV values are text, an empty
    field None (the export writes null as empty); NDJSON values are as ``rows`` gives them."""

    def __init__(self, format: str) -> None:
        self.format = format
        self.columns: list[str] | None = None

    def rows(self, data: bytes) -> list[dict]:
        if self.format == "ndjson":
            return [json.loads(line) for line in data.split(b"\n") if line]
        records = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
        if self.columns is None:
            self.columns = next(records, None)
        columns = self.columns or []
        return [{c: (v if v != "" else None) for c, v in zip(columns, record)}
                for record in records]


def _frame_from_file(path: Path, format: str, columns: list[str]) -> Any:
    if format == "parquet":
        return _parquet().read_table(path).to_pandas()
    pandas = _pandas()
    if format == "csv":
        return _read_csv(pandas, path)
    return _read_ndjson(pandas, path, columns)


def _read_csv(pandas: Any, source: Any) -> Any:
    # Text as the API gives it (decimals and dates exact, leading zeros kept); empty is null.
    return pandas.read_csv(source, dtype=str, keep_default_na=False, na_values=[""],
                           encoding="utf-8")


def _read_ndjson(pandas: Any, source: Any, columns: list[str]) -> Any:
    # dtype=False: values as the JSON has them (integers, booleans, exact text).
    reader = pandas.read_json(source, lines=True, dtype=False, chunksize=CSV_CHUNK_ROWS,
                              encoding="utf-8")
    with reader:
        parts = list(reader)
    if not parts:
        return pandas.DataFrame(columns=columns or None)
    frame = pandas.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return frame[columns] if columns and set(columns) <= set(frame.columns) else frame


class _Pipe(io.RawIOBase):
    """A read-only binary file over an iterator of byte chunks (pandas reads from it)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


class _ExportBase:
    def __init__(self, client: Any, link: ExportLink, format: str,
                 progress: Reporter | None) -> None:
        self._client = client
        #: The signed link the export downloads from.
        self.link = link
        #: ``csv``, ``ndjson`` or ``parquet``.
        self.format = format
        self._progress = progress
        #: The state of the latest download: ``total``, ``rows_done``, ``resumes``, ``columns``.
        self.state = DownloadState(format)

    @property
    def total_rows(self) -> int:
        """Rows of the export (the server's count once a download started, else its estimate)."""
        return self.state.total if self.state.total is not None else self.link.row_estimate

    @property
    def columns(self) -> list[str]:
        """The columns sent (known once a download started)."""
        return list(self.state.columns)

    def _fresh(self) -> DownloadState:
        self.state = DownloadState(self.format)
        return self.state

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(self.state)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(format={self.format!r}, version={self.link.version}, "
                f"rows={self.total_rows})")


class Export(_ExportBase):
    """A bulk export of an asset (``client.assets.export``): ``save``, ``iter_rows``,
    ``to_pandas``. Each call downloads it, resuming (CSV, NDJSON) or restarting (Parquet) after a
    dropped connection within the client's retries."""

    _client: "Client"

    def _events(self) -> Iterator[Deliver | Restart]:
        state = self._fresh()
        self._report()
        for event in self._client._download(self.link, state):
            yield event
            self._report()
        self._report()

    def _chunks(self) -> Iterator[bytes]:
        for event in self._events():
            if isinstance(event, Deliver):
                yield event.data

    def _spool(self, target: Path | None) -> Path:
        from databank._export import SUFFIXES

        spool = _Spool(target, SUFFIXES[self.format])
        try:
            for event in self._events():
                if isinstance(event, Restart):
                    spool.restart()
                else:
                    spool.write(event.data)
        except BaseException:
            spool.discard()
            raise
        return spool.finish()

    def save(self, path: str | os.PathLike) -> Path:
        """Download the export into ``path`` (written to ``path``'s directory as it arrives,
        then moved onto ``path``: no half file is left behind). Returns the path."""
        return self._spool(Path(path))

    def iter_rows(self) -> Iterator[dict]:
        """The rows as dicts, parsed as they arrive (Parquet: after the download, from a
        temporary file; needs pyarrow)."""
        if self.format == "parquet":
            yield from self._parquet_rows()
            return
        parser = _RowParser(self.format)
        for data in self._chunks():
            yield from parser.rows(data)

    def _parquet_rows(self) -> Iterator[dict]:
        parquet = _parquet()
        path = self._spool(None)
        try:
            for batch in parquet.ParquetFile(path).iter_batches():
                yield from batch.to_pylist()
        finally:
            path.unlink(missing_ok=True)

    def to_pandas(self) -> Any:
        """The export as a ``pandas.DataFrame``. CSV columns are text (exact, as in the file;
        empty is null); NDJSON and Parquet keep integers and booleans. Needs pandas (and
        pyarrow for Parquet)."""
        pandas = _pandas()
        if self.format == "parquet":
            _parquet()
            path = self._spool(None)
            try:
                return _frame_from_file(path, "parquet", self.columns)
            finally:
                path.unlink(missing_ok=True)
        pipe = io.BufferedReader(_Pipe(self._chunks()), buffer_size=1 << 20)
        if self.format == "csv":
            return _read_csv(pandas, pipe)
        return _read_ndjson(pandas, io.TextIOWrapper(pipe, encoding="utf-8"), self.columns)


class AsyncExport(_ExportBase):
    """The async twin of ``Export``: ``await save(path)``, ``async for row in iter_rows()``,
    ``await to_pandas()`` (downloads to a temporary file, then reads it)."""

    _client: "AsyncClient"

    async def _events(self) -> AsyncIterator[Deliver | Restart]:
        state = self._fresh()
        self._report()
        async for event in self._client._download(self.link, state):
            yield event
            self._report()
        self._report()

    async def _spool(self, target: Path | None) -> Path:
        from databank._export import SUFFIXES

        spool = _Spool(target, SUFFIXES[self.format])
        try:
            async for event in self._events():
                if isinstance(event, Restart):
                    spool.restart()
                else:
                    spool.write(event.data)
        except BaseException:
            spool.discard()
            raise
        return spool.finish()

    async def save(self, path: str | os.PathLike) -> Path:
        """Download the export into ``path``; see ``Export.save``."""
        return await self._spool(Path(path))

    async def iter_rows(self) -> AsyncIterator[dict]:
        """The rows as dicts, parsed as they arrive; see ``Export.iter_rows``."""
        if self.format == "parquet":
            parquet = _parquet()
            path = await self._spool(None)
            try:
                for batch in parquet.ParquetFile(path).iter_batches():
                    for row in batch.to_pylist():
                        yield row
            finally:
                path.unlink(missing_ok=True)
            return
        parser = _RowParser(self.format)
        async for event in self._events():
            if isinstance(event, Deliver):
                for row in parser.rows(event.data):
                    yield row

    async def to_pandas(self) -> Any:
        """The export as a ``pandas.DataFrame``; see ``Export.to_pandas``."""
        _pandas()
        if self.format == "parquet":
            _parquet()
        path = await self._spool(None)
        try:
            return _frame_from_file(path, self.format, self.columns)
        finally:
            path.unlink(missing_ok=True)
