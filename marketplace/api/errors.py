"""The API's error vocabulary: exceptions a resolver raises to become a top-level GraphQL error.

Each carries an Apollo-style ``extensions.code``. graphql-core copies a raised exception's dict
``.extensions`` into the error it builds (``GraphQLError.__init__`` reads
``original_error.extensions``), so the code and any extra fields reach the client unchanged; the
``/graphql`` endpoint passes errors of this family through and masks every other exception.

Extra keyword arguments become extension fields, their names in camelCase like the rest of the
API (``retry_after=30`` → ``"retryAfter": 30``). Expected business failures of a mutation are
not errors of this kind: they come back as data in the payload (``errors { field message code }``),
and lookups of missing things return null.
"""

from __future__ import annotations

import math
from typing import Any


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class ApiError(Exception):
    """A failure the client is told about, with a stable code for programs."""

    code: str = "BAD_REQUEST"
    #: The HTTP status when the error refuses the whole request before any operation runs
    #: (raised by the endpoint's context factory). Inside an executed operation the status is
    #: 200, except for the quota and rate-limit family (429).
    http_status: int = 400

    def __init__(self, message: str, **extra: Any) -> None:
        """:param message: what went wrong, for a person.
        :param extra: extra extension fields (snake_case names are sent in camelCase)."""
        super().__init__(message)
        self.message = message
        self.extra = {_camel(key): value for key, value in extra.items()}

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extra}


class UnauthenticatedError(ApiError):
    """The request carries no valid credentials but the operation needs them."""

    code = "UNAUTHENTICATED"
    http_status = 401


class ForbiddenError(ApiError):
    """The caller is known but may not do this."""

    code = "FORBIDDEN"
    http_status = 403


class BadUserInputError(ApiError):
    """An argument is out of range or malformed in a way the schema cannot express."""

    code = "BAD_USER_INPUT"
    http_status = 400


class NotFoundError(ApiError):
    """What a query names by id is not there, or not the caller's to see: the two answers are the
    same, so an id never tells a stranger that something exists (nor whose it is)."""

    code = "NOT_FOUND"
    http_status = 404


class _RetryLaterError(ApiError):
    """A refusal that lifts after ``retry_after`` seconds (sent as HTTP 429 + Retry-After)."""

    http_status = 429

    def __init__(self, message: str, *, retry_after: float, **extra: Any) -> None:
        """:param retry_after: seconds until a retry can succeed (rounded up to whole seconds)."""
        self.retry_after = max(0, math.ceil(retry_after))
        super().__init__(message, retry_after=self.retry_after, **extra)


class QuotaExceededError(_RetryLaterError):
    """The subscription's quota for the period is used up."""

    code = "QUOTA_EXCEEDED"


class RateLimitedError(_RetryLaterError):
    """Too many requests in a short window."""

    code = "RATE_LIMITED"


class ServiceUnavailableError(ApiError):
    """The database cannot answer right now (down, restarting, locked): retry after
    ``retry_after`` seconds. Sent as HTTP 503 with Retry-After, the cause never in the text."""

    code = "SERVICE_UNAVAILABLE"
    http_status = 503

    def __init__(self, message: str = "The service is temporarily unavailable: retry shortly.",
                 *, retry_after: float, **extra: Any) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, retry_after=self.retry_after, **extra)


#: Codes that turn the HTTP status of the response into 429 with a Retry-After header.
RETRY_LATER_CODES = frozenset({QuotaExceededError.code, RateLimitedError.code})
