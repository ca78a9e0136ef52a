"""Readers that turn an upload (CSV, XLSX, JSONL) into a header and a stream of text-cell rows.

Everything streams in 64 KiB chunks: the raw bytes are counted (size limit), hashed (content hash)
and decoded incrementally. Rows are lists of ``str`` (empty string = no value); a blank line comes
out as an empty list, which the importer skips. ``position.line_num`` is the (last) line of the
row just read, for error messages.

The limits of ``ImportLimits`` are checked while reading, so a file that breaks one is refused
after reading about the limit, not the file: an unfinished line is kept as a list of pieces joined
once when it ends (joining at every chunk made a 50 MB line cost 85 s), and a workbook's expanded
size is read from its zip directory before it is parsed.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import hashlib
import itertools
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from marketplace.datastore.errors import ImportRejected
from marketplace.datastore.limits import (
    XLSX_MAX_SHEET_ROWS,
    XLSX_RAGGED_LOOKAHEAD,
    ImportLimits,
    characters,
)

CHUNK = 1 << 16
_BOM = codecs.BOM_UTF8
_EXOTIC_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_AFTER_NEWLINE = re.compile(r"(?<=\n)")


def describe_size(limit: int) -> str:
    if limit >= 1 << 20:
        return f"{limit / (1 << 20):g} MB"
    if limit >= 1 << 10:
        return f"{limit / (1 << 10):g} KB"
    return f"{limit} bytes"


class RawReader:
    """Reads the upload in chunks, counting and hashing the bytes and enforcing the size limit."""

    def __init__(self, source: BinaryIO, max_bytes: int | None) -> None:
        self._source = source
        self._max = max_bytes
        self._hash = hashlib.sha256()
        self.bytes_read = 0

    def read(self, size: int = CHUNK) -> bytes:
        data = self._source.read(size)
        if not data:
            return b""
        if isinstance(data, str):  # a text stream passed by mistake
            raise ImportRejected("the upload must be read as bytes", code="UNDECODABLE")
        self.bytes_read += len(data)
        if self._max is not None and self.bytes_read > self._max:
            raise ImportRejected(f"the upload is larger than the limit of {describe_size(self._max)}",
                                 code="TOO_LARGE")
        self._hash.update(data)
        return data

    def read_full(self, size: int) -> bytes:
        """Up to ``size`` bytes, fewer only at the end of the stream."""
        parts, got = [], 0
        while got < size:
            data = self.read(size - got)
            if not data:
                break
            parts.append(data)
            got += len(data)
        return b"".join(parts)

    @property
    def content_hash(self) -> str:
        return "sha256:" + self._hash.hexdigest()


class _Position:
    line_num = 0


def detect_encoding(first: bytes, at_end: bool) -> str:
    """"utf-8-sig" with a BOM, "utf-8" when the first chunk decodes as UTF-8, else "gb18030"."""
    if first.startswith(_BOM):
        return "utf-8-sig"
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportRejected("the file is UTF-16 encoded; save it as UTF-8 or GB18030", code="UNDECODABLE",
                             line=1)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(first, at_end)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _text_lines(raw: RawReader, first: bytes, encoding: str, limits: ImportLimits
                ) -> Iterator[list[str]]:
    """Decoded lines (ends kept, split on \\r, \\n, \\r\\n only), a chunk's worth at a time.

    The unfinished last line waits as pieces and is checked as it grows: the first line against
    the header limit, any line against the line limit, and its last run without a comma against
    the field limit (a run of 2n+2 characters holds a field of more than n, quotes counted twice).
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    newlines = 0  # line breaks before the current chunk: the same count in bytes and in text
    pending: list[str] = []  # the unfinished line, in pieces
    pending_chars = 0
    run = 0  # characters of the unfinished line since its last comma
    header = True  # the unfinished line is the first
    chunk = first
    while True:
        final = not chunk
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            line = 1 + newlines + exc.object[: exc.start].count(b"\n")
            raise ImportRejected(f"the file is not valid {encoding.upper().replace('-SIG', '')} text "
                                 f"(byte {exc.object[exc.start:exc.start + 1].hex().upper()} cannot be decoded)",
                                 code="UNDECODABLE", line=line) from None
        nul = text.find("\x00")
        if nul >= 0:
            raise ImportRejected("the file contains a NUL character (is it a binary file?)",
                                 code="UNDECODABLE", line=1 + newlines + text.count("\n", 0, nul))
        if final:
            if pending or text:
                yield ["".join(pending) + text]
            return
        newlines += chunk.count(b"\n")
        if "\n" not in text and "\r" not in text:  # the line goes on: keep the piece
            pending.append(text)
            pending_chars += len(text)
            comma = text.rfind(",")
            run = run + len(text) if comma < 0 else len(text) - comma - 1
            _check_unfinished(pending_chars, run, 1 + newlines, header, limits)
            chunk = raw.read(CHUNK)
            continue
        if pending:
            text = "".join(pending) + text
        lines = _AFTER_NEWLINE.split(text) if _EXOTIC_BREAKS.search(text) else text.splitlines(True)
        carry = lines.pop() if lines and not lines[-1].endswith("\n") else ""
        if header and lines:  # the header line ended in this chunk
            if len(lines[0]) > limits.max_header_chars:
                _refuse_header(limits)
            header = False
        pending = [carry] if carry else []
        pending_chars = len(carry)
        comma = carry.rfind(",")
        run = len(carry) - comma - 1
        if carry:
            _check_unfinished(pending_chars, run, 1 + newlines, header, limits)
        yield lines
        chunk = raw.read(CHUNK)


def _check_unfinished(chars: int, run: int, line: int, header: bool, limits: ImportLimits) -> None:
    if header and chars > limits.max_header_chars:
        _refuse_header(limits)
    if run > 2 * limits.max_field_chars + 2:
        raise field_too_long(limits, line)
    if chars > limits.max_line_chars:
        raise ImportRejected(f"the line is longer than the limit of {characters(limits.max_line_chars)}",
                             code="TOO_LARGE", line=line)


def _refuse_header(limits: ImportLimits) -> None:
    raise ImportRejected(f"the header line is longer than the limit of "
                         f"{characters(limits.max_header_chars)}", code="TOO_LARGE", line=1)


def field_too_long(limits: ImportLimits, line: int | None, what: str = "a field") -> ImportRejected:
    return ImportRejected(f"{what} is longer than the limit of {characters(limits.max_field_chars)}",
                          code="TOO_LARGE", line=line)


class CsvSource:
    def __init__(self, raw: RawReader, limits: ImportLimits) -> None:
        first = raw.read_full(CHUNK)
        if not first:
            raise ImportRejected("the file is empty", code="EMPTY")
        self.encoding = detect_encoding(first, len(first) < CHUNK)
        self._limits = limits
        # The csv module's limit is process-wide; every CSV import sets the configured one. It
        # also stops a quoted field of many short lines, which no single line shows.
        csv.field_size_limit(limits.max_field_chars)
        self.reader = csv.reader(itertools.chain.from_iterable(_text_lines(raw, first, self.encoding,
                                                                           limits)))
        self.position = self.reader
        try:
            self.header = next(self.reader)
        except StopIteration:
            raise ImportRejected("the file is empty", code="EMPTY") from None
        except csv.Error as exc:
            self._raise_if_too_long(exc, 1)
            raise ImportRejected(f"the CSV header cannot be read: {exc}", code="BAD_HEADER", line=1) from None
        if not self.header:
            raise ImportRejected("the first line (the header) is empty", code="BAD_HEADER", line=1)
        self.header_line = 1
        self.rows: Iterator[list[str]] = self._rows()

    def _rows(self) -> Iterator[list[str]]:
        reader = self.reader
        start = reader.line_num + 1
        try:
            for row in reader:
                yield row
                start = reader.line_num + 1
        except csv.Error as exc:
            self._raise_if_too_long(exc, start)
            raise

    def _raise_if_too_long(self, error: csv.Error, line: int) -> None:
        if "field larger than field limit" in str(error):
            raise field_too_long(self._limits, line) from None

    def close(self) -> None:
        pass


def render_cell(value: Any) -> str:
    """A typed spreadsheet/JSON cell as the text the importer converts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() and value.tzinfo is None \
            else value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


class XlsxSource:
    """The first sheet of a workbook; the upload is spooled to a temporary file (zip needs seeking).

    Nothing in the workbook is trusted for size: its expanded size and ratio are read from the zip
    directory (which also bounds what the zip reader will inflate) before openpyxl parses it; the
    sheet's declared dimension is dropped (a dimension of a million rows made a million empty
    ones); rows are read at most ``XLSX_RAGGED_LOOKAHEAD`` columns wider than the header.
    """

    encoding = "utf-8"

    def __init__(self, raw: RawReader, limits: ImportLimits) -> None:
        import openpyxl

        self._limits = limits
        self._book: Any = None
        self._spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
        try:
            while chunk := raw.read(CHUNK):
                self._spool.write(chunk)
            if raw.bytes_read == 0:
                raise ImportRejected("the file is empty", code="EMPTY")
            self._check_expansion(raw.bytes_read)
            self._spool.seek(0)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._book = openpyxl.load_workbook(self._spool, read_only=True, data_only=True)
                sheet = self._book.worksheets[0]
            except Exception:  # noqa: BLE001 - zip/XML errors of every kind mean the same to the user
                raise ImportRejected("the file is not a readable XLSX workbook", code="UNDECODABLE") from None
            sheet.reset_dimensions()
            self.position = _Position()
            first = sheet.iter_rows(max_row=1, values_only=True)
            header = list(next(first, None) or ())
            first.close()
            self.position.line_num = 1
            while header and header[-1] is None:
                header.pop()
            if not header:
                raise ImportRejected("the first sheet is empty", code="EMPTY")
            if sum(len(render_cell(v)) for v in header) > limits.max_header_chars:
                raise ImportRejected(f"the header's names are longer than the limit of "
                                     f"{characters(limits.max_header_chars)}", code="TOO_LARGE", line=1)
            self.header = header
            self.header_line = 1
            self._cells = sheet.iter_rows(min_row=2, max_col=len(header) + XLSX_RAGGED_LOOKAHEAD,
                                          values_only=True)
            self.rows = self._rows(len(header))
        except BaseException:
            self.close()
            raise

    def _check_expansion(self, size: int) -> None:
        limits = self._limits
        self._spool.seek(0)
        try:
            with zipfile.ZipFile(self._spool) as archive:
                expanded = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise ImportRejected("the file is not a readable XLSX workbook", code="UNDECODABLE") from None
        if expanded > limits.max_xlsx_expanded_bytes:
            raise ImportRejected(f"the workbook expands to {describe_size(expanded)}, more than the limit "
                                 f"of {describe_size(limits.max_xlsx_expanded_bytes)}", code="TOO_LARGE")
        if expanded > limits.max_xlsx_ratio * size:
            raise ImportRejected(f"the workbook expands to {expanded // size:,} times its size, more than "
                                 f"the limit of {limits.max_xlsx_ratio:,} times", code="TOO_LARGE")

    def _rows(self, width: int) -> Iterator[list[str]]:
        position = self.position
        longest = self._limits.max_field_chars
        blank = (None,) * (width + XLSX_RAGGED_LOOKAHEAD)  # every row comes this wide
        for values in self._cells:
            position.line_num += 1
            if values == blank:  # the common case of the rows a gap in row numbers stands for
                if position.line_num > XLSX_MAX_SHEET_ROWS:
                    raise self._beyond_the_sheet()
                yield []
                continue
            if position.line_num > XLSX_MAX_SHEET_ROWS:
                raise self._beyond_the_sheet()
            if len(values) > width:
                if any(v is not None and v != "" for v in values[width:]):
                    yield [render_cell(v) for v in values]  # ragged: the importer names the line
                    continue
                values = values[:width]
            if all(v is None for v in values):
                yield []
                continue
            row = [render_cell(v) for v in values]
            if max(map(len, row)) > longest:
                raise field_too_long(self._limits, position.line_num, "a cell")
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            yield row

    def _beyond_the_sheet(self) -> ImportRejected:
        return ImportRejected(f"the sheet has a row beyond the {XLSX_MAX_SHEET_ROWS:,} rows a worksheet "
                              "can have", code="TOO_LARGE", line=self.position.line_num)

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
        self._spool.close()


class JsonlSource:
    """One JSON object per line; the first object's keys are the columns."""

    def __init__(self, raw: RawReader, limits: ImportLimits) -> None:
        self._raw = raw
        self._limits = limits
        self.encoding = "utf-8"
        self.position = _Position()
        self._lines = self._byte_lines()
        for line in self._lines:
            if line.strip():
                obj = self._parse(line)
                break
        else:
            raise ImportRejected("the file is empty", code="EMPTY")
        if sum(len(k) for k in obj) > limits.max_header_chars:
            raise ImportRejected(f"the first line's keys are longer than the limit of "
                                 f"{characters(limits.max_header_chars)}", code="TOO_LARGE",
                                 line=self.position.line_num)
        self.header = list(obj)
        self.header_line = self.position.line_num
        self._first = obj
        self.rows = self._rows()

    def _byte_lines(self) -> Iterator[bytes]:
        """Lines as bytes; the unfinished one waits as pieces, joined once when it ends."""
        pending: list[bytes] = []
        pending_bytes = 0
        limit = self._limits.max_line_chars
        first = True
        while True:
            chunk = self._raw.read(CHUNK)
            if first:
                first = False
                if chunk.startswith(_BOM):
                    chunk = chunk[len(_BOM):]
                    self.encoding = "utf-8-sig"
            if not chunk:
                if pending:
                    self.position.line_num += 1
                    yield b"".join(pending)
                return
            if b"\n" in chunk:
                if pending:
                    chunk = b"".join(pending) + chunk
                lines = chunk.split(b"\n")
                carry = lines.pop()
                for line in lines:
                    self.position.line_num += 1
                    yield line
                pending, pending_bytes = ([carry], len(carry)) if carry else ([], 0)
            else:
                pending.append(chunk)
                pending_bytes += len(chunk)
            if pending_bytes > limit:  # bytes: never fewer than the characters they encode
                raise ImportRejected(f"the line is longer than the limit of {characters(limit)}",
                                     code="TOO_LARGE", line=self.position.line_num + 1)

    def _parse(self, line: bytes) -> dict:
        if b"\\u0000" in line:
            raise ImportRejected("the line contains a NUL character", code="UNDECODABLE",
                                 line=self.position.line_num)
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ImportRejected(f"the line is not valid JSON ({str(exc).split(':')[0]})",
                                 code="UNDECODABLE", line=self.position.line_num) from None
        if not isinstance(obj, dict):
            raise ImportRejected("the line is not a JSON object", code="UNDECODABLE", line=self.position.line_num)
        return obj

    def _rows(self) -> Iterator[list[str]]:
        keys = self.header
        known = set(keys)
        yield self._row(self._first)
        for line in self._lines:
            if not line.strip():
                yield []
                continue
            obj = self._parse(line)
            unknown = obj.keys() - known
            if unknown:
                name = sorted(unknown)[0]
                raise ImportRejected(f'the key "{name}" is not one of the columns of the first line',
                                     code="BAD_HEADER", line=self.position.line_num)
            yield self._row(obj)

    def _row(self, obj: dict) -> list[str]:
        row = [render_cell(obj.get(k)) for k in self.header]
        if row and max(map(len, row)) > self._limits.max_field_chars:
            raise field_too_long(self._limits, self.position.line_num, "a value")
        return row

    def close(self) -> None:
        pass


def open_source(source: BinaryIO, fmt: str, max_bytes: int | None,
                limits: ImportLimits | None = None) -> tuple[RawReader, Any]:
    readers = {"csv": CsvSource, "xlsx": XlsxSource, "jsonl": JsonlSource}
    if fmt not in readers:
        raise ImportRejected(f'the format "{fmt}" is not one of csv, xlsx, jsonl', code="UNSUPPORTED_FORMAT")
    raw = RawReader(source, max_bytes)
    return raw, readers[fmt](raw, limits or ImportLimits())
