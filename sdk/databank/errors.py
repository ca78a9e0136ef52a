"""The exceptions the SDK raises, keyed by HTTP status and GraphQL ``extensions.code``.

::

    DatabankError
    ├── APIConnectionError            the server could not be reached (after the retries)
    │   └── APITimeoutError           ... or did not answer in time
    ├── APIStatusError                the server answered with an error (status, body, request_id)
    │   ├── BadRequestError           400: malformed request, parse/validation failure, over a limit
    │   │   └── InvalidQueryError     BAD_USER_INPUT (also a ValueError): a bad ``where``, cursor ...
    │   ├── AuthenticationError       401 / UNAUTHENTICATED: wrong, revoked or expired key or token
    │   ├── PermissionDeniedError     403 / FORBIDDEN: known caller, not allowed
    │   ├── NotFoundError             404, or a look-up of something that does not exist
    │   ├── ConflictError             409
    │   ├── QuotaExceededError        429 QUOTA_EXCEEDED: ``retry_after`` seconds, ``reset_at``
    │   ├── RateLimitError            429 RATE_LIMITED: ``retry_after`` seconds
    │   └── InternalServerError       5xx / INTERNAL_SERVER_ERROR
    └── MutationError                 a mutation answered with payload ``errors { field message code }``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping


class DatabankError(Exception):
    """Anything the SDK raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIConnectionError(DatabankError):
    """The server could not be reached, or the connection broke (after the configured retries)."""

    def __init__(self, message: str = "Connection error.", *, attempts: int = 1) -> None:
        super().__init__(message)
        #: How many times the request was sent before giving up.
        self.attempts = attempts


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout (after the configured retries)."""

    def __init__(self, message: str = "Request timed out.", *, attempts: int = 1) -> None:
        super().__init__(message, attempts=attempts)


class APIStatusError(DatabankError):
    """The server answered with an error: an HTTP error status, or GraphQL ``errors``."""

    def __init__(self, message: str, *, status_code: int, body: Any = None,
                 headers: Mapping[str, str] | None = None, code: str | None = None,
                 errors: list[dict] | None = None) -> None:
        super().__init__(message)
        #: The HTTP status of the answer (200 when only a GraphQL field failed).
        self.status_code = status_code
        #: The decoded JSON body (or the text when it was not JSON).
        self.body = body
        #: The answer's headers.
        self.headers = dict(headers or {})
        #: The GraphQL ``extensions.code`` of the first error (``None`` for a bare HTTP error).
        self.code = code
        #: Every GraphQL error of the answer.
        self.errors = list(errors or [])
        extensions = (self.errors[0].get("extensions") or {}) if self.errors else {}
        #: ``X-Request-Id`` of the answer, or the server's ``reference`` for an internal error.
        self.request_id = (self.headers.get("x-request-id") or extensions.get("reference"))
        #: The first error's ``extensions`` (``reason``, ``limit``, ``retryAfter`` ...).
        self.extensions: dict = dict(extensions)

    def __str__(self) -> str:
        code = f" {self.code}" if self.code else ""
        return f"[{self.status_code}{code}] {self.message}"


class BadRequestError(APIStatusError):
    """The request was malformed or over a limit (HTTP 400, 413, 415; parse or validation)."""


class InvalidQueryError(BadRequestError, ValueError):
    """An argument was refused (BAD_USER_INPUT): a malformed ``where``, a bad cursor, a page size
    out of range, an asset that is not published. Also a ``ValueError``."""


class AuthenticationError(APIStatusError):
    """The key or token was refused (HTTP 401, UNAUTHENTICATED); ``reason`` says why."""

    @property
    def reason(self) -> str | None:
        """``malformed_key``, ``unknown_key``, ``revoked_key``, ``expired_key``, ``expired`` ..."""
        return self.extensions.get("reason")


class PermissionDeniedError(APIStatusError):
    """A known caller who may not do this (HTTP 403, FORBIDDEN): no subscription, no scope ..."""


class NotFoundError(APIStatusError):
    """What was asked for does not exist or is not visible to you (HTTP 404, or a null look-up)."""


class ConflictError(APIStatusError):
    """The request conflicted with the server's state (HTTP 409); retried automatically."""


class _RetryLater:
    @property
    def retry_after(self) -> int | None:
        """Seconds until a retry can succeed (``extensions.retryAfter``, else ``Retry-After``)."""
        value = self.extensions.get("retryAfter")  # type: ignore[attr-defined]
        if value is None:
            value = self.headers.get("retry-after")  # type: ignore[attr-defined]
        try:
            return int(float(value)) if value is not None else None
        except ValueError:
            return None


class QuotaExceededError(_RetryLater, APIStatusError):
    """The month's rows or calls are used up (HTTP 429, QUOTA_EXCEEDED); see ``reset_at``."""

    @property
    def reset_at(self) -> datetime | None:
        """When the quota resets (``extensions.resetAt``, China time)."""
        value = self.extensions.get("resetAt")
        return datetime.fromisoformat(value) if value else None


class RateLimitError(_RetryLater, APIStatusError):
    """Too many calls this minute (HTTP 429, RATE_LIMITED); retried after ``Retry-After``."""


class InternalServerError(APIStatusError):
    """The server failed (HTTP 5xx, or INTERNAL_SERVER_ERROR); quote ``request_id``."""


@dataclass(frozen=True)
class FieldError:
    """One payload error of a mutation."""

    field: str | None
    """The input at fault as a dotted camelCase path (``metadata.opening.legalBasis``), or None."""
    message: str
    """For a person."""
    code: str
    """Stable, for programs (``NOT_PERMITTED``, ``ALREADY_EXISTS`` ...)."""


class MutationError(DatabankError):
    """A mutation was refused as a business rule says: its payload carried ``errors``."""

    def __init__(self, operation: str, errors: list[FieldError]) -> None:
        text = "; ".join(f"{e.code}: {e.message}" + (f" ({e.field})" if e.field else "")
                         for e in errors)
        super().__init__(f"{operation} was refused: {text}")
        #: The operation's name (``CreateApiKey`` ...).
        self.operation = operation
        #: The payload errors, in the server's order.
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        """The errors' codes."""
        return [e.code for e in self.errors]


_BY_CODE: dict[str, type[APIStatusError]] = {
    "UNAUTHENTICATED": AuthenticationError,
    "FORBIDDEN": PermissionDeniedError,
    "BAD_USER_INPUT": InvalidQueryError,
    "BAD_REQUEST": BadRequestError,
    "GRAPHQL_PARSE_FAILED": BadRequestError,
    "GRAPHQL_VALIDATION_FAILED": BadRequestError,
    "PAYLOAD_TOO_LARGE": BadRequestError,
    "NOT_FOUND": NotFoundError,
    "QUOTA_EXCEEDED": QuotaExceededError,
    "RATE_LIMITED": RateLimitError,
    "INTERNAL_SERVER_ERROR": InternalServerError,
}

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError,
    404: NotFoundError, 409: ConflictError, 413: BadRequestError, 415: BadRequestError,
    429: RateLimitError,
}


def error_class(status_code: int, code: str | None) -> type[APIStatusError]:
    """The exception for an answer: the GraphQL code decides, else the HTTP status."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    if status_code >= 500:
        return InternalServerError
    return APIStatusError
