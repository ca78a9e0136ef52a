"""What a view says when it refuses a question: the API layer turns each into its error
(``marketplace.api.errors``) with the same message, so views stay free of GraphQL."""

from __future__ import annotations


class QueryRefused(Exception):
    """The question cannot be answered as asked."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(QueryRefused):
    """The caller is known but may not ask this (the API's FORBIDDEN)."""


class InvalidQuery(QueryRefused):
    """An argument is out of range or malformed (the API's BAD_USER_INPUT)."""
