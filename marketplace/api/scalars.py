"""Scalars of the API that graphene does not provide."""

from __future__ import annotations

from typing import Any

import graphene
from graphql import GraphQLError


class Upload(graphene.Scalar):
    """A file sent as a part of a multipart request following the GraphQL multipart request spec
    (https://github.com/jaydenseric/graphql-multipart-request-spec); only usable as a variable."""

    # At execution the argument's value is the server's upload object (Starlette's UploadFile:
    # .filename, .content_type, .size, and .file, a spooled temporary file, so a large upload
    # costs constant memory). The docstring above is the published schema description.

    @staticmethod
    def serialize(value: Any) -> Any:
        raise GraphQLError("Upload is an input-only scalar: it cannot be returned.")

    @staticmethod
    def parse_value(value: Any) -> Any:
        # Duck-typed so the API layer does not import the web framework.
        if hasattr(value, "file") and hasattr(value, "filename"):
            return value
        raise GraphQLError(
            "Upload value must be a file sent with a multipart request (map it to this variable).")

    @staticmethod
    def parse_literal(node: Any, _variables: Any = None) -> Any:
        raise GraphQLError("Upload cannot be written inline: pass the file as a variable.")
