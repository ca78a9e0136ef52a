"""What every capability of the entitlements read model shares: the stored row, the batch of
changes one transaction writes, and the two lookups a reader may make.

The read model is a set of documents, each a row ``(kind, id, org, asset, extra, doc)``: ``org``,
``asset`` and ``extra`` are the columns looked up by (``extra`` is the secret hash of a key, the
status of a subscription, the department of an access application, the user of a membership).
Documents are JSON in the database, so their values are plain: strings (times in ISO 8601),
numbers, lists and objects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: A stored document as the database hands it back, before a reader gives it its type.
Doc = dict[str, Any]


@dataclass
class Row:
    org: str | None
    asset: str | None
    extra: str | None
    doc: Doc


Load = Callable[[str, str], "Row | None"]


class Changes:
    """The rows one batch of events touched: read through to the store once, written at the end."""

    def __init__(self, load: Load) -> None:
        self._load = load
        self.rows: dict[tuple[str, str], Row | None] = {}

    def get(self, kind: str, key: str) -> Row | None:
        if (kind, key) not in self.rows:
            self.rows[(kind, key)] = self._load(kind, key)
        return self.rows[(kind, key)]

    def put(self, kind: str, key: str, row: Row) -> None:
        self.rows[(kind, key)] = row

    def delete(self, kind: str, key: str) -> None:
        self.rows[(kind, key)] = None


#: An event handler of one aggregate type: (changes, event name, event, aggregate id, event time
#: in ISO 8601). Events are the Market's domain events, typed by their aggregate's module.
Handler = Callable[[Changes, str, Any, str, str], None]


def iso(value: Any) -> Any:
    """A datetime as ISO 8601 (JSON has no time type); anything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


class DocumentReads(ABC):
    """The two lookups the capabilities' readers make; each backend implements them in SQL."""

    @abstractmethod
    def _get(self, kind: str, key: str) -> Doc | None: ...

    @abstractmethod
    def _select(self, kind: str, *, org: str | None = None, asset: str | None = None,
                extra: str | None = None) -> list[Doc]:
        """Documents of ``kind`` whose given columns equal the given values."""
