"""Parquet exports: one row group per block, written as it comes (pyarrow is optional: without
it the format is refused when the link is asked for)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from marketplace.datastore import ColumnType

MEDIA_TYPE = "application/vnd.apache.parquet"


def available() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def encode(columns: tuple[str, ...], types: Mapping[str, ColumnType], masked: Collection[str],
           blocks: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    masked = set(masked)
    schema = pa.schema([(c, _arrow_type(pa, types.get(c), c in masked)) for c in columns])
    sink = _Chunks()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema) as writer:
        for rows in blocks:
            by_column = list(zip(*rows)) or [()] * len(schema)
            arrays = [pa.array(by_column[i], type=field.type) for i, field in enumerate(schema)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))  # one row group
            yield sink.take()
    yield sink.take()  # the footer


def _arrow_type(pa: Any, column_type: ColumnType | None, masked: bool) -> Any:
    """Values as the API gives them: decimals, dates and datetimes as exact ISO text."""
    if masked:
        return pa.string()  # a masked value may be "***" whatever the column's type
    if column_type is ColumnType.INTEGER:
        return pa.int64()
    if column_type is ColumnType.BOOLEAN:
        return pa.bool_()
    return pa.string()


class _Chunks:
    """A write-only file that hands what was written to whoever ``take``s it."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data

    def flush(self) -> None:
        """Nothing is buffered here."""

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False
