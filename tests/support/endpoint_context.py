"""A request context for testing the GraphQL endpoint on its own, without a data bank."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PlainContext:
    """Only what the endpoint sets and reads (``marketplace.web.graphql_endpoint.EndpointContext``)."""

    request: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_extensions: dict[str, Any] = field(default_factory=dict)
    grants: list[Any] = field(default_factory=list)
