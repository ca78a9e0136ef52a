"""Export encoders, one module per format. Each ``encode`` turns the stream's blocks (value
tuples in column order, already masked and reserved) into the file's bytes, one chunk per block,
so memory stays one block whatever the export's size.

``encode(columns, types, masked, blocks)``: ``types`` maps a column to its ``ColumnType``;
``masked`` holds the columns the tier masks (their values may be "***" whatever the type).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from marketplace.datastore import ColumnType
from marketplace.services.export_formats import csv, ndjson, parquet

Encoder = Callable[[tuple[str, ...], Mapping[str, ColumnType], Collection[str],
                    Iterable[Sequence[Sequence[Any]]]], Iterator[bytes]]

# The order is the one error messages list the formats in.
ENCODERS: dict[str, Encoder] = {"csv": csv.encode, "ndjson": ndjson.encode, "parquet": parquet.encode}
MEDIA_TYPES = {"csv": csv.MEDIA_TYPE, "ndjson": ndjson.MEDIA_TYPE, "parquet": parquet.MEDIA_TYPE}
FORMATS = tuple(ENCODERS)

__all__ = ["ENCODERS", "FORMATS", "MEDIA_TYPES", "Encoder"]
