"""``Client`` and ``AsyncClient``: the same resources over a sync or an async httpx client. Each
drives the shared request loop (``_core.request_loop``) with its own I/O; nothing else differs."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Iterator, Mapping

import httpx

from databank import _core
from databank._core import Call, Send, Settings, Sleep
from databank._export import (Deliver, DownloadState, ExportLink, Open, Read, Reporter, Restart,
                              download_loop)
from databank._pagination import AsyncPaginator, PageSpec, Paginator
from databank.exports import AsyncExport, Export
from databank.models import Viewer
from databank.resources import (ApiKeys, Applications, Assets, Catalogue, Subscriptions,
                                UsageResource, login_call, viewer_call)

# Module-level so tests can watch (and skip) the waits.
_sleep = time.sleep
_async_sleep = asyncio.sleep


class _ClientBase:
    """Settings and resources shared by both clients."""

    def __init__(self, api_key: str | None = None, *, token: str | None = None,
                 base_url: str | None = None, timeout: float = _core.DEFAULT_TIMEOUT,
                 max_retries: int = _core.DEFAULT_MAX_RETRIES,
                 max_retry_wait: float = _core.DEFAULT_MAX_RETRY_WAIT,
                 default_headers: Mapping[str, str] | None = None) -> None:
        self._settings = Settings.resolve(base_url=base_url, api_key=api_key, token=token,
                                          timeout=timeout, max_retries=max_retries,
                                          max_retry_wait=max_retry_wait,
                                          default_headers=default_headers)
        self.catalogue = Catalogue(self)
        self.assets = Assets(self)
        self.subscriptions = Subscriptions(self)
        self.api_keys = ApiKeys(self)
        self.applications = Applications(self)
        self.usage = UsageResource(self)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def max_retries(self) -> int:
        return self._settings.max_retries

    @property
    def token(self) -> str | None:
        """The login token sent as ``Authorization: Bearer`` (set by ``login``)."""
        return self._settings.token

    def _request(self, call: Call) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _paginate(self, spec: PageSpec) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _export(self, call: Call, format: str,
                progress: Reporter | None) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class Client(_ClientBase):
    """A synchronous client of the data bank's API.

    :param api_key: an API key (``dbk_...``), sent as ``X-API-Key``; default ``DATABANK_API_KEY``
    :param token: a login token (JWT), sent as ``Authorization: Bearer``; wins over ``api_key``
    :param base_url: the server; default ``DATABANK_URL``, else ``http://127.0.0.1:8000``
    :param timeout: seconds for each request (connect, read, write, pool)
    :param max_retries: retries after the first attempt (connection errors, 408, 409, 429
        RATE_LIMITED, 5xx); 0 turns retrying off
    :param max_retry_wait: the longest ``Retry-After`` the client waits out; a longer one raises
    :param default_headers: extra headers on every request
    :param http_client: an ``httpx.Client`` of your own (proxies, certificates, a transport);
        you close it
    :param transport: an ``httpx`` transport for the client's own ``httpx.Client`` (tests use
        ``httpx.MockTransport``)
    """

    def __init__(self, api_key: str | None = None, *, token: str | None = None,
                 base_url: str | None = None, timeout: float = _core.DEFAULT_TIMEOUT,
                 max_retries: int = _core.DEFAULT_MAX_RETRIES,
                 max_retry_wait: float = _core.DEFAULT_MAX_RETRY_WAIT,
                 default_headers: Mapping[str, str] | None = None,
                 http_client: httpx.Client | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(api_key, token=token, base_url=base_url, timeout=timeout,
                         max_retries=max_retries, max_retry_wait=max_retry_wait,
                         default_headers=default_headers)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=httpx.Timeout(timeout),
                                                 transport=transport)

    def _request(self, call: Call) -> Any:
        loop = _core.request_loop(self._settings, call)
        action = next(loop)
        while True:
            try:
                if isinstance(action, Send):
                    try:
                        outcome: Any = self._http.send(action.request)
                    except httpx.TransportError as exc:
                        outcome = exc
                    action = loop.send(outcome)
                else:
                    assert isinstance(action, Sleep)
                    _sleep(action.seconds)
                    action = loop.send(None)
            except StopIteration as done:
                return done.value

    def _paginate(self, spec: PageSpec) -> Paginator:
        return Paginator(spec, self._request)

    def _export(self, call: Call, format: str, progress: Reporter | None) -> Export:
        return Export(self, self._request(call), format, progress)

    def _download(self, link: ExportLink, state: DownloadState) -> Iterator[Deliver | Restart]:
        """Drives ``_export.download_loop`` with this client's I/O; yields what it hands on."""
        loop = download_loop(self._settings, link, state)
        response: httpx.Response | None = None
        chunks: Iterator[bytes] = iter(())
        try:
            action = next(loop)
            while True:
                outcome: Any = None
                if isinstance(action, Open):
                    if response is not None:
                        response.close()
                        response = None
                    try:
                        response = self._http.send(action.request, stream=True)
                        if response.status_code != 200:
                            response.read()  # a refusal: small JSON
                        chunks = response.iter_bytes()
                        outcome = response
                    except httpx.TransportError as exc:
                        outcome = exc
                elif isinstance(action, Read):
                    try:
                        outcome = next(chunks, b"")
                    except httpx.TransportError as exc:
                        outcome = exc
                elif isinstance(action, Sleep):
                    _sleep(action.seconds)
                else:
                    yield action
                try:
                    action = loop.send(outcome)
                except StopIteration:
                    return
        finally:
            loop.close()
            if response is not None:
                response.close()

    def login(self, username: str, password: str) -> Viewer:
        """Log in (staff by username, members by e-mail); later requests carry the token."""
        token, viewer = self._request(login_call(username, password))
        self._settings.token = token
        return viewer

    def viewer(self) -> Viewer:
        """Who the credentials say you are."""
        return self._request(viewer_call())

    def close(self) -> None:
        """Close the connections (unless the ``http_client`` was yours)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(_ClientBase):
    """The asynchronous twin of ``Client``: the same parameters (``http_client`` an
    ``httpx.AsyncClient``, ``transport`` an async transport) and resources; methods return
    awaitables, and ``catalogue.search``/``assets.rows`` async iterators."""

    def __init__(self, api_key: str | None = None, *, token: str | None = None,
                 base_url: str | None = None, timeout: float = _core.DEFAULT_TIMEOUT,
                 max_retries: int = _core.DEFAULT_MAX_RETRIES,
                 max_retry_wait: float = _core.DEFAULT_MAX_RETRY_WAIT,
                 default_headers: Mapping[str, str] | None = None,
                 http_client: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(api_key, token=token, base_url=base_url, timeout=timeout,
                         max_retries=max_retries, max_retry_wait=max_retry_wait,
                         default_headers=default_headers)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=httpx.Timeout(timeout),
                                                      transport=transport)

    async def _request(self, call: Call) -> Any:
        loop = _core.request_loop(self._settings, call)
        action = next(loop)
        while True:
            try:
                if isinstance(action, Send):
                    try:
                        outcome: Any = await self._http.send(action.request)
                    except httpx.TransportError as exc:
                        outcome = exc
                    action = loop.send(outcome)
                else:
                    assert isinstance(action, Sleep)
                    await _async_sleep(action.seconds)
                    action = loop.send(None)
            except StopIteration as done:
                return done.value

    def _paginate(self, spec: PageSpec) -> AsyncPaginator:
        return AsyncPaginator(spec, self._request)

    async def _export(self, call: Call, format: str, progress: Reporter | None) -> AsyncExport:
        return AsyncExport(self, await self._request(call), format, progress)

    async def _download(self, link: ExportLink, state: DownloadState
                        ) -> AsyncIterator[Deliver | Restart]:
        """Drives ``_export.download_loop`` with this client's I/O; yields what it hands on."""
        loop = download_loop(self._settings, link, state)
        response: httpx.Response | None = None
        chunks: AsyncIterator[bytes] | None = None
        try:
            action = next(loop)
            while True:
                outcome: Any = None
                if isinstance(action, Open):
                    if response is not None:
                        await response.aclose()
                        response = None
                    try:
                        response = await self._http.send(action.request, stream=True)
                        if response.status_code != 200:
                            await response.aread()  # a refusal: small JSON
                        chunks = response.aiter_bytes()
                        outcome = response
                    except httpx.TransportError as exc:
                        outcome = exc
                elif isinstance(action, Read):
                    assert chunks is not None
                    try:
                        outcome = await anext(chunks, b"")
                    except httpx.TransportError as exc:
                        outcome = exc
                elif isinstance(action, Sleep):
                    await _async_sleep(action.seconds)
                else:
                    yield action
                try:
                    action = loop.send(outcome)
                except StopIteration:
                    return
        finally:
            loop.close()
            if response is not None:
                await response.aclose()

    async def login(self, username: str, password: str) -> Viewer:
        """Log in (staff by username, members by e-mail); later requests carry the token."""
        token, viewer = await self._request(login_call(username, password))
        self._settings.token = token
        return viewer

    async def viewer(self) -> Viewer:
        """Who the credentials say you are."""
        return await self._request(viewer_call())

    async def close(self) -> None:
        """Close the connections (unless the ``http_client`` was yours)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
