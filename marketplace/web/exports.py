"""``GET /exports/<token>[?after_row=N]``: the download behind an export link.

The token is the credential (no Authorization header). Refusals are JSON in the GraphQL error
shape, ``{"errors": [{"message", "extensions": {"code", ...}}]}``: 401 UNAUTHENTICATED (the link
expired, was altered or is not a link: ``reason`` says which), 403 FORBIDDEN (the entitlement
is gone since the link was issued, the API key that asked for it was revoked or has expired, or
the filter names a column the tier now masks), 404 NOT_FOUND (the asset was withdrawn), 400
BAD_USER_INPUT (a bad ``after_row``), 429 QUOTA_EXCEEDED / RATE_LIMITED with ``Retry-After``
(nothing left to send). Everything is decided, and the first block reserved, before the status line is sent.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any, Callable

from anyio import CancelScope, CapacityLimiter, to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from marketplace.api.rows.schema import quota_headers
from marketplace.datastore import QueryRejected
from marketplace.identity import InvalidTokenError
from marketplace.services.access import AccessDenied, QuotaRefused
from marketplace.services.exports import ExportRefused, Exports, ExportStream
from marketplace.web.unavailable import is_database_unavailable, unavailable_response


_AFTER_ROW = re.compile(r"[0-9]{1,18}")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
           **extensions: Any) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code, **extensions}}]},
                        status_code=status, headers=headers)


def exports_route(exports: Exports, *,
                  now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                  limiter: CapacityLimiter | None = None) -> Route:
    """The download route, served from ``exports``.

    :param limiter: the worker threads the datastore and ledger work runs on (shared with
        ``/graphql``); anyio's default limiter when None
    """

    async def download(request: Request) -> Response:
        token = request.path_params["token"]
        raw = request.query_params.get("after_row", "0")
        # ASCII digits only: str.isdigit also accepts "²" and other digits int() refuses, and
        # a bounded length keeps int() cheap (no export has 10^18 rows).
        if _AFTER_ROW.fullmatch(raw) is None:
            return _error(400, "BAD_USER_INPUT", "after_row is a whole number of rows, 0 or more")
        ip = request.client.host if request.client else ""
        try:
            stream: ExportStream = await to_thread.run_sync(
                lambda: exports.open(token, ip=ip, after_row=int(raw)), limiter=limiter)
        except InvalidTokenError as exc:
            return _error(401, "UNAUTHENTICATED", str(exc), reason=exc.reason)
        except AccessDenied as exc:
            status = {"NOT_FOUND": 404, "UNAUTHENTICATED": 401}.get(exc.code, 403)
            return _error(status, exc.code, exc.message)
        except (ExportRefused, QueryRejected) as exc:
            return _error(400, "BAD_USER_INPUT", exc.message)
        except QuotaRefused as refused:
            grant = refused.grant
            code = "RATE_LIMITED" if grant.refusal == "rate" else "QUOTA_EXCEEDED"
            headers = {"Retry-After": str(grant.retry_after_seconds), **quota_headers(grant, now())}
            return _error(429, code, str(refused), headers=headers,
                          retryAfter=grant.retry_after_seconds, resetAt=grant.reset_at.isoformat())
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            # Nothing was sent yet: the honest answer is "retry", never a 500 with the cause.
            return unavailable_response(f"opening an export: {type(exc).__name__}")
        headers = {
            **quota_headers(stream.grant, now()),
            "Content-Disposition": f'attachment; filename="{stream.filename}"',
            "Cache-Control": "no-store",
            "X-Export-Version": str(stream.plan.version),
            "X-Export-Total-Rows": str(stream.total),
            "X-Export-After-Row": str(stream.after_row),
            "X-Export-Columns": ",".join(_header_safe(c) for c in stream.columns),
        }
        # Each block is pulled on a worker thread of the shared limiter, so the event loop never
        # waits on the datastore or the ledger, and exports share the threads fairly with /graphql.
        return StreamingResponse(_off_loop(stream.body(), limiter), media_type=stream.media_type,
                                 headers=headers)

    return Route("/exports/{token}", download, methods=["GET"])


_DONE = object()


async def _off_loop(blocks: Iterator[Any], limiter: CapacityLimiter | None) -> AsyncIterator[Any]:
    """The blocks of a synchronous iterator, each ``next`` on a worker thread of ``limiter``."""
    try:
        while True:
            block = await to_thread.run_sync(next, blocks, _DONE, limiter=limiter)
            if block is _DONE:
                return
            yield block
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:  # a generator's finally (the stream's settle) runs off the loop too,
            # and runs even when the client went away (the response's task is being cancelled).
            with CancelScope(shield=True):
                await to_thread.run_sync(close, limiter=limiter)


def _header_safe(name: str) -> str:
    """Column names are Chinese: percent-encode them for a header (RFC 8187 style)."""
    from urllib.parse import quote

    return quote(name, safe="")
