"""Request ids, the access log and the request metrics (one ASGI middleware), and the log setup.

Request ids
    Every HTTP request gets an id: the client's ``X-Request-Id`` when it is a sane token (1–64
    characters of ``A-Z a-z 0-9 . _ -``: anything else could forge log lines or bloat them), else
    a fresh one. It is echoed in the ``X-Request-Id`` response header, added to every JSON error
    body (``extensions.requestId`` of each GraphQL error, ``requestId`` of other JSON errors) and
    carried by every log record of the request through a context variable — which anyio copies
    into the worker threads the endpoint runs operations on, so the services' log lines carry it.

Logs
    ``configure_logging("json" | "text")``: one JSON object per line (python-json-logger, on the
    standard ``logging`` module every package already uses) with ``time``, ``level``, ``logger``,
    ``message``, ``request_id`` and any ``extra`` fields; the access line (logger
    ``databank.access``) adds ``method``, ``path``, ``status``, ``duration_ms`` (and
    ``operation`` for GraphQL).
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

import orjson
from pythonjsonlogger.orjson import OrjsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketplace.web.metrics import RequestMetrics

#: The id of the request being served in this context (None outside a request).
REQUEST_ID: ContextVar[str | None] = ContextVar("databank_request_id", default=None)

HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: Larger JSON error bodies pass through without a requestId rather than being held in memory.
_MAX_ERROR_BODY = 1 << 20

access_log = logging.getLogger("databank.access")


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def request_id_from(header: str | None) -> str:
    """The client's id when it is a sane token, else a new one (96 random bits, hex)."""
    if header is not None and _SANE_ID.fullmatch(header):
        return header
    return secrets.token_hex(12)


def with_request_id(body: Any, request_id: str) -> Any:
    """A JSON error body with the request id in it: in each GraphQL error's extensions, else at
    the top level of an object. Anything else is returned unchanged."""
    if not isinstance(body, dict):
        return body
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        for error in errors:
            if isinstance(error, dict):
                extensions = error.get("extensions")
                if not isinstance(extensions, dict):
                    extensions = error["extensions"] = {}
                extensions.setdefault("requestId", request_id)
    else:
        body.setdefault("requestId", request_id)
    return body


class RequestObservability:
    """ASGI middleware: the request id, the access log line and the request metrics."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics or RequestMetrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(_header(scope, b"x-request-id"))
        token = REQUEST_ID.set(request_id)
        status = 500  # until the app says otherwise (an exception before the response)
        held: list[Message] = []  # a JSON error response, held to add the request id

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ())
                           if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
                if status >= 400 and _is_json(headers):
                    held.append(message)
                    return
            elif held and message["type"] == "http.response.body":
                held.append(message)
                if message.get("more_body", False) and _held_size(held) <= _MAX_ERROR_BODY:
                    return
                await _send_held(held, request_id, send)
                held.clear()
                return
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            access_log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            raise
        finally:
            duration = time.perf_counter() - started
            route = scope.get("route")
            operation = _graphql_operation(scope, route)
            self.metrics.observe(getattr(route, "path", None), status, duration, operation)
            if access_log.isEnabledFor(logging.INFO):
                extra = {"method": scope["method"], "path": scope["path"], "status": status,
                         "duration_ms": round(duration * 1000, 2)}
                if operation is not False:
                    extra["operation"] = operation
                access_log.info("%s %s %d", scope["method"], scope["path"], status, extra=extra)
            REQUEST_ID.reset(token)


def _graphql_operation(scope: Scope, route: Any) -> str | None | bool:
    """The operation the GraphQL endpoint chose (its name, None when unnamed: the endpoint
    notes it in ``request.state.graphql_operation``), True when /graphql answered before one
    was chosen, False for other routes."""
    if getattr(route, "name", None) != "graphql":
        return False
    state = scope.get("state")
    if isinstance(state, dict) and "graphql_operation" in state:
        name = state["graphql_operation"]
        return name if isinstance(name, str) else None
    return True


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for key, value in headers:
        if key.lower() == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def _held_size(held: list[Message]) -> int:
    return sum(len(m.get("body", b"")) for m in held[1:])


async def _send_held(held: list[Message], request_id: str, send: Send) -> None:
    start, bodies = held[0], held[1:]
    raw = b"".join(m.get("body", b"") for m in bodies)
    more = bool(bodies[-1].get("more_body", False))
    if not more:
        try:
            raw = orjson.dumps(with_request_id(orjson.loads(raw), request_id))
        except orjson.JSONDecodeError:
            pass  # not the JSON it claims: sent as it is
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        start = {**start, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": raw, "more_body": more})


# --- log setup -------------------------------------------------------------------------------

class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class _JsonFormatter(OrjsonFormatter):
    """python-json-logger's formatter with orjson (already ours): a third cheaper per line."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # ISO 8601 in UTC with milliseconds: sortable, and unambiguous across servers.
        return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")


def log_formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return _JsonFormatter("{asctime}{levelname}{name}{message}{request_id}", style="{",
                              rename_fields={"asctime": "time", "levelname": "level",
                                             "name": "logger"})
    if log_format == "text":
        return logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    raise ValueError(f"log format must be json or text, not {log_format!r}")


def configure_logging(log_format: str, *, level: int = logging.WARNING) -> None:
    """One handler on the root logger (stderr), in ``log_format``, every record with its request
    id; the access log at INFO whatever ``level`` (operators want one line per request);
    uvicorn's own loggers propagate to it (serve it with ``log_config=None``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(log_formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    access_log.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
