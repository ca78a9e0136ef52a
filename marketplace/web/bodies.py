"""Request bodies read within a limit: every route that reads a body caps it, so a client cannot
make the server hold more than the route needs (a 300 MB webhook body once took the process
from 155 MB to 1.26 GB).

A Content-Length over the limit is refused before a byte is read; a body that lies about its
length, or streams without one (chunked), is stopped at the first chunk past the limit. At most
the limit plus one chunk is ever held.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive

#: The default cap of small JSON bodies (webhook events, GraphQL requests).
SMALL_BODY_BYTES = 2**20


class PayloadTooLargeError(Exception):
    """The request body is larger than the route accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


def describe_bytes(limit: int) -> str:
    """``52428800`` → ``"50 MB"`` (binary megabytes, as limits are configured)."""
    megabytes = limit / 2**20
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{limit} bytes"


def declared_length(request: Request) -> int | None:
    """The Content-Length header as a number, or None when absent or not a number."""
    value = request.headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def limited_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`PayloadTooLargeError` as soon as the body passes ``limit``
    bytes — whatever the Content-Length header claims, and when there is none (chunked)."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLargeError(limit)
        return message

    return receive_within_limit


async def read_body_capped(request: Request, limit: int) -> bytes:
    """The whole body of ``request`` if it is at most ``limit`` bytes.

    :raises PayloadTooLargeError: the declared length or the bytes received pass the limit
        (answer it with :func:`too_large_response`).
    """
    length = declared_length(request)
    if length is not None and length > limit:
        raise PayloadTooLargeError(limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large_response(limit: int) -> JSONResponse:
    """413 for a route outside GraphQL; the connection is closed (the rest of the body unread)."""
    return JSONResponse({"error": f"the request body is larger than the limit of "
                                  f"{describe_bytes(limit)}", "limitBytes": limit},
                        status_code=413, headers={"Connection": "close"})
