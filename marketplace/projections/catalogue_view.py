"""The catalogue read model: what anyone can list, filter and search, fed from the event log.

Each backend writes the entries and the tracking position in one transaction, so a crash between
two batches resumes exactly where it stopped, and ``reset`` + catch-up rebuilds from zero.
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import orjson

from marketplace.projections.catalogue_model import Entry, apply_asset_event, columns_of

PAGE_LIMIT = 100


@dataclass(frozen=True)
class CatalogueQuery:
    """A catalogue listing: free text plus filters, keyset-paginated by resource code."""

    text: str = ""
    category: str | None = None
    class_code: str | None = None
    department_id: str | None = None
    open_type: str | None = None
    statuses: tuple[str, ...] = ("published",)
    first: int = 20
    after: str | None = None


@dataclass(frozen=True)
class CataloguePage:
    entries: list[Entry]
    total: int
    end_cursor: str | None
    has_next_page: bool


def encode_cursor(resource_code: str) -> str:
    return base64.urlsafe_b64encode(resource_code.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the cursor is not one this catalogue gave out") from None


class CatalogueView(ABC):
    """The read model's storage; subclasses hold the SQL of one database."""

    def process(self, events: Sequence[tuple[int, Any]]) -> None:
        """Apply (notification id, domain event) pairs and advance the tracking position."""
        if not events:
            return
        with self._transaction() as tx:
            # Another follower may have got here first: apply only what is still new.
            done = self._locked_position(tx)
            events = [pair for pair in events if pair[0] > done]
            if not events:
                return
            departments: dict[str, Entry] = {}
            touched: dict[str, Entry | None] = {}
            for _, event in events:
                kind = type(event).__qualname__
                if kind == "Department.Registered":
                    dep = {"id": str(event.originator_id), "code": event.code, "name": event.name,
                           "contact": event.contact}
                    departments[dep["id"]] = dep
                    self._put_department(tx, dep)
                elif kind.startswith("DataAsset."):
                    key = str(event.originator_id)
                    if key not in touched:
                        touched[key] = self._load_entry(tx, key)
                    if type(event).__name__ == "Registered" and event.department_id not in departments:
                        found = self._load_department(tx, event.department_id)
                        if found:
                            departments[event.department_id] = found
                    updated = apply_asset_event(touched[key], event, departments)
                    if updated is not None:
                        touched[key] = updated
            for entry in touched.values():
                if entry is not None:
                    self._put_entry(tx, entry, columns_of(entry))
            self._track(tx, events[-1][0])

    @abstractmethod
    def position(self) -> int:
        """The last notification id processed (0 when empty)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget everything (for a rebuild from the start of the log)."""

    @abstractmethod
    def get(self, asset_id: str) -> Entry | None: ...

    @abstractmethod
    def departments(self) -> list[Entry]: ...

    @abstractmethod
    def search(self, query: CatalogueQuery) -> CataloguePage: ...

    # backend primitives, called inside process()'s transaction
    @abstractmethod
    def _transaction(self) -> Any: ...

    @abstractmethod
    def _load_entry(self, tx: Any, asset_id: str) -> Entry | None: ...

    @abstractmethod
    def _load_department(self, tx: Any, department_id: str) -> Entry | None: ...

    @abstractmethod
    def _put_entry(self, tx: Any, entry: Entry, columns: dict[str, Any]) -> None: ...

    @abstractmethod
    def _put_department(self, tx: Any, department: Entry) -> None: ...

    @abstractmethod
    def _track(self, tx: Any, position: int) -> None: ...

    @abstractmethod
    def _locked_position(self, tx: Any) -> int:
        """The tracking position, locked until the transaction ends."""


def page_from_rows(rows: Iterable[bytes | str], total: int, first: int) -> CataloguePage:
    entries = [orjson.loads(r) for r in rows]
    has_next = len(entries) > first
    entries = entries[:first]
    end = encode_cursor(entries[-1]["resource_code"]) if entries else None
    return CataloguePage(entries=entries, total=total, end_cursor=end, has_next_page=has_next)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` literally anywhere (escape character: backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
