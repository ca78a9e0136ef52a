"""Which failures mean "the database is unavailable right now" (answer 503 + Retry-After, the
client retries) rather than "the server has a bug" (500, logged with a reference).

PostgreSQL down or restarting, a connection pool that cannot connect within its timeout, a
connection that broke under a query, an SQLite file locked beyond its busy timeout: all of them
pass by themselves, so the honest answer is "retry shortly", never an internal error. The causes
are looked up the exception's chain, because services and the event-sourcing library wrap the
driver's error in their own.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("databank.web")

#: Seconds a client is asked to wait before retrying (pools retry their connections meanwhile).
RETRY_AFTER_SECONDS = 2
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable: retry shortly."

# SQLite's transient conditions: a writer held the file beyond the busy timeout, or the file
# cannot be opened (a volume gone away). Other OperationalErrors (no such table, a syntax error)
# are bugs or bad input and stay what they are.
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "unable to open database",
                     "disk i/o error")


def is_database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or anything it was raised from) says the database cannot answer now."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        # psycopg: connection refused or lost, server shutting down, a pool timeout
        # (PoolTimeout is an OperationalError), a statement cancelled by the server.
        if isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError,
                              StoreOperationalError, StoreInterfaceError)):
            return True
        if isinstance(error, sqlite3.OperationalError) and any(
                text in str(error).lower() for text in _SQLITE_TRANSIENT):
            return True
        error = error.__cause__ or error.__context__
    return False


def unavailable_response(where: str) -> JSONResponse:
    """503 in the API's error shape, with Retry-After; the cause stays in the log."""
    log.warning("database unavailable in %s", where)
    return JSONResponse({"errors": [{"message": UNAVAILABLE_MESSAGE, "extensions": {
        "code": "SERVICE_UNAVAILABLE", "retryAfter": RETRY_AFTER_SECONDS}}]},
        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _handle(request: Request, exc: Exception) -> Response:
    if not is_database_unavailable(exc):
        raise exc  # a real bug: the server error middleware logs it and answers 500
    return unavailable_response(f"{request.method} {request.url.path}: {type(exc).__name__}")


def unavailable_handlers() -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette exception handlers turning the database's transient errors, raised by any
    route (the home page, health, webhooks), into 503 + Retry-After instead of a 500."""
    return {error: _handle for error in (psycopg.OperationalError, psycopg.InterfaceError,
                                         StoreOperationalError, StoreInterfaceError,
                                         sqlite3.OperationalError)}
