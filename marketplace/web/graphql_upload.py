"""Multipart request bodies for ``/graphql``: the GraphQL multipart request spec
(https://github.com/jaydenseric/graphql-multipart-request-spec).

A multipart request carries the fields ``operations`` (the JSON request, with ``null`` where files
go), ``map`` (JSON: file field name → list of paths into ``operations``, like
``"variables.file"`` or ``"variables.files.0"``) and then the files. Starlette's parser spools each
file to a temporary file (in memory up to 1 MiB, then on disk), so memory stays constant; the
``Upload`` scalar hands the resulting ``UploadFile`` to the resolver.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

# The byte limits are shared with the other routes that read bodies (web/bodies.py).
from marketplace.web.bodies import (  # noqa: F401 - re-exported for the endpoint
    PayloadTooLargeError,
    declared_length,
    describe_bytes,
    limited_receive,
)

#: Headers a browser cannot add to a cross-site request without a CORS preflight; one of them
#: must be present on a multipart request (the same CSRF rule as Apollo Server's).
PREFLIGHT_HEADERS = ("graphql-preflight", "apollo-require-preflight")


class MultipartRequestError(Exception):
    """A multipart request that does not follow the GraphQL multipart request spec."""


def has_preflight_header(request: Request) -> bool:
    headers = request.headers
    return any(headers.get(name) for name in PREFLIGHT_HEADERS)


async def read_multipart(request: Request, *, max_files: int = 100,
                         max_field_bytes: int = 2 * 2**20) -> dict[str, Any]:
    """The GraphQL request of a multipart body, its ``Upload`` variables set to the files.

    The files stay open until ``await request.close()``.

    :param max_files: most files in one request.
    :param max_field_bytes: largest non-file field (``operations`` carries the variables).
    :raises MultipartRequestError: the body does not follow the spec.
    :raises PayloadTooLargeError: from a :func:`limited_receive` the request reads through.
    """
    try:
        form = await request.form(max_files=max_files, max_fields=max_files + 2,
                                  max_part_size=max_field_bytes)
    except (MultiPartException, HTTPException) as exc:
        detail = getattr(exc, "message", None) or getattr(exc, "detail", None) or str(exc)
        raise MultipartRequestError(f"malformed multipart body: {detail}") from None
    operations = _json_field(form.get("operations"), "operations")
    if isinstance(operations, list):
        raise MultipartRequestError("batched operations are not supported: send one operation "
                                    "per request")
    if not isinstance(operations, dict):
        raise MultipartRequestError("the 'operations' field must be a JSON object")
    mapping = _json_field(form.get("map"), "map")
    if not isinstance(mapping, dict):
        raise MultipartRequestError("the 'map' field must be a JSON object of file field names "
                                    "to lists of paths")
    for field_name, paths in mapping.items():
        upload = form.get(field_name)
        if not isinstance(upload, UploadFile):
            raise MultipartRequestError(f"the map names file field '{field_name}', but the "
                                        "request has no file under that name")
        if not isinstance(paths, list) or not paths:
            raise MultipartRequestError(f"the map entry '{field_name}' must be a non-empty list "
                                        "of paths")
        for path in paths:
            _place(operations, path, upload)
    return operations


def _json_field(value: Any, name: str) -> Any:
    if value is None:
        raise MultipartRequestError(f"a multipart GraphQL request needs the '{name}' field "
                                    "(GraphQL multipart request spec)")
    if not isinstance(value, str):
        raise MultipartRequestError(f"the '{name}' field must be JSON text, not a file")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise MultipartRequestError(f"the '{name}' field is not valid JSON: {exc}") from None


def _place(operations: dict[str, Any], path: Any, upload: UploadFile) -> None:
    if not isinstance(path, str) or not path.startswith("variables."):
        raise MultipartRequestError(f"map path {path!r} must point into 'variables' "
                                    "(like 'variables.file')")
    *parents, last = path.split(".")
    target: Any = operations
    for segment in parents:
        target = _step(target, segment, path)
    if isinstance(target, dict):
        target[last] = upload
    elif isinstance(target, list) and last.isdigit() and int(last) < len(target):
        target[int(last)] = upload
    else:
        raise MultipartRequestError(f"map path {path!r} does not match the operation's variables")


def _step(target: Any, segment: str, path: str) -> Any:
    if isinstance(target, dict):
        if segment not in target or target[segment] is None:
            target[segment] = {}
        return target[segment]
    if isinstance(target, list) and segment.isdigit() and int(segment) < len(target):
        return target[int(segment)]
    raise MultipartRequestError(f"map path {path!r} does not match the operation's variables")
