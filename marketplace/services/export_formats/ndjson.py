"""NDJSON exports: one JSON object per row, values as the rows API gives them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from marketplace.datastore import ColumnType

MEDIA_TYPE = "application/x-ndjson"


def encode(columns: tuple[str, ...], types: Mapping[str, ColumnType], masked: Collection[str],
           blocks: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    newline = orjson.OPT_APPEND_NEWLINE
    for rows in blocks:
        yield b"".join([orjson.dumps(dict(zip(columns, row)), option=newline) for row in rows])
