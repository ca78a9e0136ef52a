"""Readers that turn an upload (CSV, XLSX, JSONL) into a header and a stream of text-cell rows.

Everything streams in 64 KiB chunks: the raw bytes are counted (size limit), hashed (content hash)
and decoded incrementally. Rows are lists of ``str`` (empty string = no value); a blank line comes
out as an empty list, which the importer skips. ``position.line_num`` is the (last) line of the
row just read, for error messages.
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
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from marketplace.datastore.errors import ImportRejected

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


def _text_lines(raw: RawReader, first: bytes, encoding: str) -> Iterator[list[str]]:
    """Decoded lines (ends kept, split on \\r, \\n, \\r\\n only), a chunk's worth at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    newlines = 0  # line breaks before the current chunk: the same count in bytes and in text
    carry = ""
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
        newlines += chunk.count(b"\n")
        if carry:
            text = carry + text
        if final:
            if text:
                yield [text]
            return
        lines = _AFTER_NEWLINE.split(text) if _EXOTIC_BREAKS.search(text) else text.splitlines(True)
        carry = lines.pop() if lines and not lines[-1].endswith("\n") else ""
        yield lines
        chunk = raw.read(CHUNK)


class CsvSource:
    def __init__(self, raw: RawReader) -> None:
        first = raw.read_full(CHUNK)
        if not first:
            raise ImportRejected("the file is empty", code="EMPTY")
        self.encoding = detect_encoding(first, len(first) < CHUNK)
        self.reader = csv.reader(itertools.chain.from_iterable(_text_lines(raw, first, self.encoding)))
        self.position = self.reader
        try:
            self.header = next(self.reader)
        except StopIteration:
            raise ImportRejected("the file is empty", code="EMPTY") from None
        except csv.Error as exc:
            raise ImportRejected(f"the CSV header cannot be read: {exc}", code="BAD_HEADER", line=1) from None
        if not self.header:
            raise ImportRejected("the first line (the header) is empty", code="BAD_HEADER", line=1)
        self.header_line = 1
        self.rows: Iterator[list[str]] = self.reader

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
    """The first sheet of a workbook; the upload is spooled to a temporary file (zip needs seeking)."""

    encoding = "utf-8"

    def __init__(self, raw: RawReader) -> None:
        import openpyxl

        self._spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
        while chunk := raw.read(CHUNK):
            self._spool.write(chunk)
        if raw.bytes_read == 0:
            raise ImportRejected("the file is empty", code="EMPTY")
        self._spool.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._book = openpyxl.load_workbook(self._spool, read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - zip/XML errors of every kind mean the same to the user
            self._spool.close()
            raise ImportRejected("the file is not a readable XLSX workbook", code="UNDECODABLE") from None
        sheet = self._book.worksheets[0]
        self.position = _Position()
        self._cells = sheet.iter_rows(values_only=True)
        header = next(self._cells, None)
        self.position.line_num = 1
        header = list(header or ())
        while header and header[-1] is None:
            header.pop()
        if not header:
            raise ImportRejected("the first sheet is empty", code="EMPTY")
        self.header = header
        self.header_line = 1
        self.rows = self._rows(len(header))

    def _rows(self, width: int) -> Iterator[list[str]]:
        position = self.position
        for values in self._cells:
            position.line_num += 1
            if len(values) > width:
                if any(v is not None and v != "" for v in values[width:]):
                    yield [render_cell(v) for v in values]  # ragged: the importer names the line
                    continue
                values = values[:width]
            if all(v is None for v in values):
                yield []
                continue
            row = [render_cell(v) for v in values]
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            yield row

    def close(self) -> None:
        self._book.close()
        self._spool.close()


class JsonlSource:
    """One JSON object per line; the first object's keys are the columns."""

    def __init__(self, raw: RawReader) -> None:
        self._raw = raw
        self.encoding = "utf-8"
        self.position = _Position()
        self._lines = self._byte_lines()
        for line in self._lines:
            if line.strip():
                obj = self._parse(line)
                break
        else:
            raise ImportRejected("the file is empty", code="EMPTY")
        self.header = list(obj)
        self.header_line = self.position.line_num
        self._first = obj
        self.rows = self._rows()

    def _byte_lines(self) -> Iterator[bytes]:
        carry = b""
        first = True
        while True:
            chunk = self._raw.read(CHUNK)
            if first:
                first = False
                if chunk.startswith(_BOM):
                    chunk = chunk[len(_BOM):]
                    self.encoding = "utf-8-sig"
            if not chunk:
                if carry:
                    self.position.line_num += 1
                    yield carry
                return
            lines = (carry + chunk).split(b"\n")
            carry = lines.pop()
            for line in lines:
                self.position.line_num += 1
                yield line

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
        yield [render_cell(self._first.get(k)) for k in keys]
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
            yield [render_cell(obj.get(k)) for k in keys]

    def close(self) -> None:
        pass


def open_source(source: BinaryIO, fmt: str, max_bytes: int | None) -> tuple[RawReader, Any]:
    readers = {"csv": CsvSource, "xlsx": XlsxSource, "jsonl": JsonlSource}
    if fmt not in readers:
        raise ImportRejected(f'the format "{fmt}" is not one of csv, xlsx, jsonl', code="UNSUPPORTED_FORMAT")
    raw = RawReader(source, max_bytes)
    return raw, readers[fmt](raw)
