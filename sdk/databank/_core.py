"""What the sync and async clients share: settings, request building, answer interpretation,
the retry policy, and the request loop itself written once as a generator of I/O actions
(``Send``/``Sleep``) that each client drives with its own I/O. No I/O happens here."""

from __future__ import annotations

import json
import os
import platform
import random
import uuid
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from importlib import resources
from typing import Any, Callable, Generator, Mapping

import httpx

from databank import errors
from databank._version import __version__

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_WAIT = 60.0
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
RETRY_STATUSES = frozenset({408, 409, 429})


def user_agent() -> str:
    python = ".".join(platform.python_version_tuple()[:2])
    return f"databank-sdk/{__version__} python/{python} httpx/{httpx.__version__}"


_OPERATIONS: dict[str, str] = {}


def operation(name: str) -> str:
    """The text of a shipped operation (``databank/operations/<name>.graphql``)."""
    text = _OPERATIONS.get(name)
    if text is None:
        text = (resources.files("databank") / "operations" / f"{name}.graphql").read_text("utf-8")
        _OPERATIONS[name] = text
    return text


@dataclass(frozen=True)
class Call:
    """One GraphQL operation to run, and how to turn its ``data`` into the result."""

    name: str
    variables: dict[str, Any]
    parse: Callable[[dict, dict], Any] = lambda data, extensions: data
    mutation: bool = False

    def with_variables(self, **changes: Any) -> "Call":
        return replace(self, variables={**self.variables, **changes})


@dataclass(frozen=True)
class Send:
    """Action: send this request; resume with the ``httpx.Response`` or the ``httpx`` error."""

    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    """Action: wait this many seconds, then resume."""

    seconds: float


@dataclass
class Settings:
    """A client's settings (see ``Client`` for what each means)."""

    base_url: str
    api_key: str | None
    token: str | None
    timeout: float
    max_retries: int
    max_retry_wait: float
    default_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(cls, *, base_url: str | None, api_key: str | None, token: str | None,
                timeout: float, max_retries: int, max_retry_wait: float,
                default_headers: Mapping[str, str] | None) -> "Settings":
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        base = base_url or os.environ.get("DATABANK_URL") or DEFAULT_BASE_URL
        if api_key is None and token is None:
            api_key = os.environ.get("DATABANK_API_KEY") or None
        return cls(base_url=base.rstrip("/"), api_key=api_key, token=token, timeout=timeout,
                   max_retries=max_retries, max_retry_wait=max_retry_wait,
                   default_headers=dict(default_headers or {}))

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": user_agent(), "Accept": "application/json",
                   "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.api_key:
            headers["X-API-Key"] = self.api_key
        headers.update(self.default_headers)
        return headers


def build_request(settings: Settings, call: Call, idempotency_key: str | None) -> httpx.Request:
    headers = settings.headers()
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    body = {"query": operation(call.name), "operationName": call.name,
            "variables": {k: v for k, v in call.variables.items() if v is not None}}
    return httpx.Request("POST", f"{settings.base_url}/graphql", headers=headers,
                         content=json.dumps(body, ensure_ascii=False, default=_json_default)
                         .encode("utf-8"),
                         extensions={"timeout": httpx.Timeout(settings.timeout).as_dict()})


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def interpret(response: httpx.Response, call: Call) -> Any:
    """The result of a call from its answer, or the exception the answer means."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if not isinstance(body, dict):
        if status >= 400:
            cls = errors.error_class(status, None)
            raise cls(f"HTTP {status}: {response.text[:200]}", status_code=status,
                      body=response.text, headers=response.headers)
        raise errors.APIStatusError(f"HTTP {status}: the answer is not a GraphQL JSON object",
                                    status_code=status, body=response.text,
                                    headers=response.headers)
    graphql_errors = body.get("errors") or []
    if graphql_errors or status >= 400:
        first = graphql_errors[0] if graphql_errors else {}
        code = (first.get("extensions") or {}).get("code")
        message = first.get("message") or f"HTTP {status}"
        cls = errors.error_class(status, code)
        raise cls(message, status_code=status, body=body, headers=response.headers, code=code,
                  errors=graphql_errors)
    return call.parse(body.get("data") or {}, body.get("extensions") or {})


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter for the ``attempt``-th retry (0-based)."""
    delay = min(INITIAL_BACKOFF * 2 ** attempt, MAX_BACKOFF)
    return delay * (1 - 0.25 * random.random())


def retry_after(headers: Mapping[str, str], extensions: Mapping[str, Any] | None = None) -> float | None:
    """Seconds the server asked us to wait: ``extensions.retryAfter`` or ``Retry-After``
    (seconds or an HTTP date)."""
    if extensions and extensions.get("retryAfter") is not None:
        try:
            return max(0.0, float(extensions["retryAfter"]))
        except (TypeError, ValueError):
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def retry_delay(settings: Settings, error: errors.DatabankError, attempt: int) -> float | None:
    """How long to wait before retrying after ``error`` on the ``attempt``-th try (0-based), or
    None to raise it. Connection errors, 408, 409, 429 RATE_LIMITED and 5xx are retried; a
    QUOTA_EXCEEDED only when the server says it lifts within ``max_retry_wait``; never 400,
    401, 403."""
    if attempt >= settings.max_retries:
        return None
    if isinstance(error, errors.APIConnectionError):
        return backoff(attempt)
    if not isinstance(error, errors.APIStatusError):
        return None
    status = error.status_code
    if status == 429 or isinstance(error, (errors.RateLimitError, errors.QuotaExceededError)):
        wait = retry_after(error.headers, error.extensions)
        if isinstance(error, errors.QuotaExceededError):
            return wait if wait is not None and wait <= settings.max_retry_wait else None
        if wait is None:
            return backoff(attempt)
        return wait if wait <= settings.max_retry_wait else None
    if status in RETRY_STATUSES or status >= 500:
        wait = retry_after(error.headers)
        if wait is not None and wait <= settings.max_retry_wait:
            return wait
        return backoff(attempt)
    return None


def transport_error(exc: BaseException, attempts: int) -> errors.APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return errors.APITimeoutError(f"Request timed out: {exc!r}", attempts=attempts)
    return errors.APIConnectionError(f"Connection error: {exc!r}", attempts=attempts)


def request_loop(settings: Settings, call: Call) -> Generator[Send | Sleep, Any, Any]:
    """The request with its retries, as a generator of actions; returns the call's result.

    A mutation gets one ``Idempotency-Key`` (a uuid4) for the logical call, the same on every
    retry, so a server that honours it applies the mutation once."""
    idempotency_key = str(uuid.uuid4()) if call.mutation else None
    attempt = 0
    while True:
        outcome = yield Send(build_request(settings, call, idempotency_key))
        try:
            if isinstance(outcome, httpx.HTTPError):
                raise transport_error(outcome, attempt + 1) from outcome
            return interpret(outcome, call)
        except errors.DatabankError as error:
            delay = retry_delay(settings, error, attempt)
            if delay is None:
                raise
        yield Sleep(delay)
        attempt += 1


def is_transport_error(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError)
