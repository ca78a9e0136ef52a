"""Scripted servers for the SDK's ring-1 tests (``httpx.MockTransport``, no server).

A ``Script`` answers requests in order from a list of steps (a response to send, or an
exception to raise) and records what was asked; the same script drives a ``Client`` and an
``AsyncClient``. Waits between retries are recorded, never slept."""

from __future__ import annotations

import json
from typing import Any, Callable

import httpx

import databank

BASE = "http://databank.test"


def graphql(data: Any = None, *, errors: list[dict] | None = None, status: int = 200,
            headers: dict[str, str] | None = None, extensions: dict | None = None) -> httpx.Response:
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    if errors:
        body["errors"] = errors
    if extensions:
        body["extensions"] = extensions
    return httpx.Response(status, json=body, headers=headers)


def error(code: str, message: str = "refused", status: int = 200, **extensions: Any) -> httpx.Response:
    headers = {}
    if "retryAfter" in extensions:
        headers["Retry-After"] = str(extensions["retryAfter"])
    return graphql({"rows": None} if status == 200 else None, status=status, headers=headers,
                   errors=[{"message": message, "extensions": {"code": code, **extensions}}])


Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers each request with the next step; records requests (method, headers, JSON)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected request {len(self.requests)}: {request.content!r}")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return step

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]

    def sync(self, **options: Any) -> databank.Client:
        options.setdefault("api_key", "dbk_test")
        return databank.Client(base_url=BASE, transport=httpx.MockTransport(self), **options)

    def async_(self, **options: Any) -> databank.AsyncClient:
        options.setdefault("api_key", "dbk_test")

        async def handler(request: httpx.Request) -> httpx.Response:
            await request.aread()
            return self(request)

        return databank.AsyncClient(base_url=BASE, transport=httpx.MockTransport(handler),
                                    **options)


