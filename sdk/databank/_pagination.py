"""Auto-pagination over keyset cursors: the paging rules once (``PageSpec``), iterated by a
sync ``Paginator`` and an async ``AsyncPaginator``."""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable, Generic, Iterator, TypeVar

from databank._core import Call

T = TypeVar("T")


class Page(Generic[T]):
    """What one page gave: its items, the cursor after it, whether more follow, and the model
    the page came as (``RowsPage`` for rows)."""

    def __init__(self, items: list[T], end_cursor: str | None, has_next_page: bool,
                 model: Any = None) -> None:
        self.items = items
        self.end_cursor = end_cursor
        self.has_next_page = has_next_page
        self.model = model


class PageSpec(Generic[T]):
    """Which call fetches the next page, how big it is, and when to stop.

    :param call: the operation of the first page (without ``after``)
    :param to_page: turns a call's result into a ``Page``
    :param page_size: items per request (the server's maximum is the caller's business)
    :param limit: stop after this many items in all (None: until the last page)
    """

    def __init__(self, call: Call, to_page: Callable[[Any], Page[T]], *, page_size: int,
                 limit: int | None = None) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if limit is not None and limit < 0:
            raise ValueError("limit must be 0 or more")
        self.call = call
        self.to_page = to_page
        self.page_size = page_size
        self.remaining = limit

    def first(self) -> Call | None:
        return self._sized(self.call)

    def next(self, page: Page[T]) -> Call | None:
        if self.remaining is not None:
            self.remaining -= len(page.items)
        if not page.has_next_page or not page.end_cursor or not page.items:
            return None
        return self._sized(self.call.with_variables(after=page.end_cursor))

    def take(self, page: Page[T]) -> list[T]:
        """The items of the page to hand out (a page past ``limit`` is cut)."""
        if self.remaining is not None and len(page.items) > self.remaining:
            return page.items[: self.remaining]
        return page.items

    def _sized(self, call: Call) -> Call | None:
        size = self.page_size if self.remaining is None else min(self.page_size, self.remaining)
        return None if size <= 0 else call.with_variables(first=size)


class Paginator(Generic[T]):
    """Iterates every item across pages, fetching each page when it is reached. ``last_page``
    is the model of the page fetched last (``RowsPage`` for rows: columns, quota)."""

    def __init__(self, spec: PageSpec[T], request: Callable[[Call], Any]) -> None:
        self._spec = spec
        self._request = request
        self.last_page: Any = None

    def pages(self) -> Iterator[Page[T]]:
        call = self._spec.first()
        while call is not None:
            page = self._spec.to_page(self._request(call))
            self.last_page = page.model
            yield page
            call = self._spec.next(page)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from self._spec.take(page)

    def to_list(self) -> list[T]:
        return list(self)

    def to_pandas(self) -> Any:
        """Every item in a ``pandas.DataFrame`` (``pip install 'databank-sdk[pandas]'``)."""
        try:
            import pandas
        except ImportError as exc:  # an optional extra, never a dependency
            raise ImportError("to_pandas needs pandas: pip install 'databank-sdk[pandas]'") from exc
        items = list(self)
        columns = getattr(self.last_page, "columns", None) or None
        return pandas.DataFrame(items, columns=columns)


class AsyncPaginator(Generic[T]):
    """The async twin of ``Paginator``: ``async for item in ...``."""

    def __init__(self, spec: PageSpec[T], request: Callable[[Call], Awaitable[Any]]) -> None:
        self._spec = spec
        self._request = request
        self.last_page: Any = None

    async def pages(self) -> AsyncIterator[Page[T]]:
        call = self._spec.first()
        while call is not None:
            page = self._spec.to_page(await self._request(call))
            self.last_page = page.model
            yield page
            call = self._spec.next(page)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in self._spec.take(page):
                yield item

    async def to_list(self) -> list[T]:
        return [item async for item in self]
