"""The ``/graphql`` endpoint: any graphql-core schema over HTTP, with limits and our error rules.

Requests
    ``POST application/json`` ``{"query", "variables", "operationName"}``; ``GET ?query=&variables=
    &operationName=`` for queries only (a mutation over GET is refused with 405, ``Allow: POST``);
    ``POST multipart/form-data`` per the GraphQL multipart request spec for ``Upload`` arguments.
    One operation per request: a JSON array (batching) is refused with 400. A browser asking for
    HTML (``Accept: text/html``) gets GraphiQL when it is switched on.

CSRF (the rule of Apollo Server)
    A cross-site page can make a browser send only "simple" requests without a CORS preflight:
    GET, or POST with a form content type. So a POST must be ``application/json`` (not simple),
    and a multipart POST — a form content type — must also carry a ``GraphQL-Preflight`` or
    ``Apollo-Require-Preflight`` header (any value), else 400. GET runs queries only, and our
    credentials travel in the ``Authorization`` header, which a cross-site request cannot attach.

Limits
    Query text ≤ ``max_query_bytes`` and ≤ ``max_tokens`` lexical tokens (400 ``BAD_REQUEST`` /
    ``GRAPHQL_PARSE_FAILED``); depth, aliases, root fields, cost and page size as validation rules
    (:mod:`marketplace.web.graphql_limits`); JSON bodies ≤ ``max_body_bytes``, multipart bodies ≤
    ``max_upload_bytes`` — counted while the body streams, refused up front when Content-Length
    already says so (413 ``PAYLOAD_TOO_LARGE``). A multipart body is read only after
    ``authorize_upload`` accepted the request's credentials: an anonymous or wrong-role upload is
    refused (401/403) with nothing spooled.

Caching
    Parsing and validation run once per query text: the document, its validation errors (an
    invalid query's encoded error response is cached too) and the shape of each operation are
    kept in an LRU of ``cache_size`` entries. Limits that depend on variables (a page size or a cost
    given by ``$first``) cannot be cached with the text; each request evaluates the operation's
    precomputed cost plan against its variables instead — a few microseconds, no AST walk.

Errors (``{"message", "locations", "path", "extensions": {"code", ...}}``)
    An :class:`~marketplace.api.errors.ApiError` raised by a resolver keeps its code and extension
    fields. Any other exception is logged with a reference id and masked as ``Internal server
    error (reference <id>)``, code ``INTERNAL_SERVER_ERROR``. Parse errors are
    ``GRAPHQL_PARSE_FAILED``, validation errors ``GRAPHQL_VALIDATION_FAILED`` (limit errors add
    ``limit``, ``maximum``, ``actual``), variables that do not coerce ``BAD_USER_INPUT``, malformed
    requests ``BAD_REQUEST``. Without introspection, validation errors carry no "Did you mean"
    suggestions (graphql-core 3.2.14's ``hide_suggestions``).

HTTP status
    200 for every executed operation, even with errors in it — UNAUTHENTICATED and FORBIDDEN too
    (the Apollo convention: one operation can mix allowed and refused fields) — except 429 with
    ``Retry-After`` when any error is ``QUOTA_EXCEEDED`` or ``RATE_LIMITED`` (our convention for
    refusals, so plain HTTP clients back off). 400 when nothing ran: malformed request, parse,
    validation or variable errors. 405 for a mutation over GET, 413 for an oversized body, 415 for
    another content type. An ``ApiError`` raised by the context factory (a bad token, say) refuses
    the request with its ``http_status`` (401, 403, 429 ...); any other exception there is 500.

Threads
    The event loop only parses, validates (cached) and moves bytes. Building the context,
    executing the operation, settling held grants and encoding the answer run on a worker thread
    (``anyio.to_thread``) under the ``limiter`` — at most that many at once — because resolvers
    wait on databases and graphql-core's ``execute`` is synchronous: on the loop, one table scan
    stalled every other request. An async resolver (the upload's) leaves its remainder to be
    awaited back on the loop.

Database unavailable
    A resolver or the context failing because the database cannot answer (PostgreSQL down or
    restarting, a pool timeout, SQLite locked beyond its timeout: :mod:`marketplace.web.unavailable`)
    answers 503 ``SERVICE_UNAVAILABLE`` with ``Retry-After``; the cause is logged, never sent.

Context
    ``context_factory(request)`` (called on the worker thread; awaited on the loop when it is a
    coroutine function) gives the context object (an :class:`EndpointContext`:
    the data bank's is :class:`~marketplace.api.context.RequestContext`); the endpoint sets its
    ``request``. After execution ``context.response_headers`` (dict) is merged into the HTTP
    headers and ``context.response_extensions`` (dict) into the response's ``extensions``.
    Resolvers that reserved something for their answer (a ``rows`` page's quota) leave an object
    with ``path`` (the field's response path) and ``finish(delivered)`` in ``context.grants``:
    after execution each is told whether its field reached the response — with ``data: null`` (a
    later field refused) none did — before the headers and extensions are read.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, MutableSequence
from dataclasses import dataclass
from decimal import Decimal
from inspect import isawaitable, iscoroutinefunction
from typing import Any, Protocol

import orjson
from anyio import CapacityLimiter, to_thread
from graphql import (
    ExecutionContext,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.language import (
    DocumentNode,
    FieldNode,
    NullValueNode,
    StringValueNode,
    VariableNode,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from marketplace.api.errors import RETRY_LATER_CODES, ApiError, ServiceUnavailableError
from marketplace.web.graphiql import graphiql_response
from marketplace.web.observability import current_request_id
from marketplace.web.graphql_limits import (
    GraphQLLimits,
    OperationShape,
    check_variables,
    make_limit_rules,
)
from marketplace.web.graphql_upload import (
    MultipartRequestError,
    PayloadTooLargeError,
    declared_length,
    describe_bytes,
    has_preflight_header,
    limited_receive,
    read_multipart,
)
from marketplace.web.unavailable import RETRY_AFTER_SECONDS, is_database_unavailable

__all__ = ["EndpointContext", "GraphQLEndpoint", "GraphQLLimits", "ORJSONResponse"]

BAD_REQUEST = "BAD_REQUEST"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = ServiceUnavailableError.code



class HeldGrant(Protocol):
    """Something reserved for a field's answer, settled once the response is known."""

    @property
    def path(self) -> tuple[str | int, ...]: ...

    def finish(self, delivered: bool) -> None: ...


class EndpointContext(Protocol):
    """What the endpoint sets (``request``) and reads after execution of a request's context;
    resolvers see all of it."""

    request: Request | None

    @property
    def response_headers(self) -> Mapping[str, str]: ...

    @property
    def response_extensions(self) -> Mapping[str, Any]: ...

    @property
    def grants(self) -> MutableSequence[HeldGrant]: ...


#: Builds a request's context. A synchronous factory runs on the worker thread with the
#: operation (it may wait on a database: an API key's lookup); an async one runs on the loop.
ContextFactory = Callable[[Request], EndpointContext] | Callable[[Request], Awaitable[EndpointContext]]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: never through a float
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ORJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_json_default)


def _error_response(status: int, message: str, code: str, headers: dict[str, str] | None = None,
                    **extra: Any) -> ORJSONResponse:
    return ORJSONResponse({"errors": [{"message": message, "extensions": {"code": code, **extra}}]},
                          status_code=status, headers=headers)


def _delivered(data: Any, path: tuple[str | int, ...]) -> bool:
    """Whether the response's ``data`` holds a value at ``path``."""
    value = data
    for key in path:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        else:
            return False
    return value is not None


class _RequestError(Exception):
    """The request is refused before any operation runs."""

    def __init__(self, status: int, message: str, code: str = BAD_REQUEST,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.response = _error_response(status, message, code, headers)


@dataclass(frozen=True)
class _Operation:
    node: OperationDefinitionNode
    kind: OperationType
    shape: OperationShape | None


@dataclass(frozen=True)
class _Prepared:
    """A parsed and validated query text, or the encoded response refusing it."""

    document: DocumentNode | None
    operations: dict[str | None, _Operation]
    refusal: bytes | None = None


#: What runs on the event loop instead of a worker thread: a query whose root fields are all
#: ``rows`` pages read through an index — in row order (no ``where``, no ``orderBy``), or with a
#: filter or sort the asset's indexes serve (``served_by_index``, the access path's rule). A
#: thread hop costs such a page about half its throughput (the loop and the workers hand the GIL
#: to each other; measured in docs/decisions.md), and it cannot scan. Anything else — a filter or
#: a sort that may scan, a mutation, another store — runs on a worker thread, so it never stalls
#: the loop.
INLINE_ROOT_FIELDS = frozenset({"rows", "__typename"})
SCAN_ARGUMENTS = ("where", "orderBy")
ServedByIndex = Callable[[object, object, object], bool]
_UNKNOWN = object()  # an argument written inline as an object or list: not looked into


def _argument(value: Any, variables: Mapping[str, Any]) -> object:
    if value is None or isinstance(value, NullValueNode):
        return None
    if isinstance(value, VariableNode):
        return variables.get(value.name.value)
    if isinstance(value, StringValueNode):
        return value.value
    return _UNKNOWN


def runs_inline(operation: OperationDefinitionNode, variables: Mapping[str, Any],
                served_by_index: ServedByIndex | None = None) -> bool:
    """True when ``operation`` (with these variables) is only pages of rows read through an
    index: in row order, or (given ``served_by_index(asset_id, where, order_by)``) filtered or
    sorted on indexed columns."""
    if operation.operation is not OperationType.QUERY:
        return False
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in INLINE_ROOT_FIELDS:
            return False  # fragments and other fields: not known to be cheap
        arguments = {a.name.value: a.value for a in selection.arguments or ()}
        where, order_by = (_argument(arguments.get(name), variables) for name in SCAN_ARGUMENTS)
        if where is None and order_by is None:
            continue
        if served_by_index is None or _UNKNOWN in (where, order_by):
            return False
        asset_id = _argument(arguments.get("assetId"), variables)
        if not served_by_index(asset_id, where, order_by):
            return False
    return True


class _ExecutionContext(ExecutionContext):
    """Marks the errors of variables that do not coerce (nothing ran) as BAD_USER_INPUT."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            for error in built:
                error.extensions = {"code": BAD_USER_INPUT, **(error.extensions or {})}
        return built


class GraphQLEndpoint:
    """An ASGI app serving one GraphQL schema; mount it with :meth:`route`."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        context_factory: ContextFactory,
        limits: GraphQLLimits = GraphQLLimits(),
        introspection: bool = True,
        graphiql: bool = True,
        max_upload_bytes: int = 50 * 2**20,
        max_body_bytes: int = 2 * 2**20,
        max_upload_files: int = 100,
        authorize_upload: Callable[[Request], Awaitable[None]] | Callable[[Request], None]
        | None = None,
        logger: logging.Logger | None = None,
        cache_size: int = 512,
        limiter: CapacityLimiter | None = None,
        served_by_index: ServedByIndex | None = None,
    ) -> None:
        """:param schema: a graphql-core schema (``graphene.Schema(...).graphql_schema``).
        :param context_factory: builds the context of a request (identity, services ...).
        :param limits: what one operation may ask for.
        :param introspection: allow ``__schema``/``__type`` (off in production; ``__typename``
            always works); off also hides "Did you mean" suggestions.
        :param graphiql: serve GraphiQL to browsers (``GET`` with ``Accept: text/html``).
        :param max_upload_bytes: largest multipart (upload) request body.
        :param max_body_bytes: largest JSON request body.
        :param max_upload_files: most files in one multipart request.
        :param authorize_upload: called before a multipart body is read (on a worker thread
            unless it is async); raises an :class:`ApiError` (401, 403) to refuse the request
            with not a byte of it spooled.
        :param logger: where masked internal errors are logged with their reference.
        :param cache_size: validated query texts kept (LRU); 0 turns the cache off.
        :param limiter: the worker threads operations run on at most at once (shared with the
            other routes that wait on the databases); anyio's default limiter when None.
        :param served_by_index: ``(asset_id, where, order_by) -> bool``, the access path's
            rule for a page read through an index (such pages run on the event loop)
        """
        self.schema = schema
        self.context_factory = context_factory
        self._async_factory = iscoroutinefunction(context_factory)
        self.limiter = limiter
        self.served_by_index = served_by_index
        self.limits = limits
        self.introspection = introspection
        self.graphiql = graphiql
        self.max_upload_bytes = max_upload_bytes
        self.max_body_bytes = max_body_bytes
        self.max_upload_files = max_upload_files
        self.authorize_upload = authorize_upload
        self.logger = logger or logging.getLogger(__name__)
        self.cache_size = cache_size
        self._hide_suggestions = not introspection
        self._base_rules = (*specified_rules,
                            *(() if introspection else (NoSchemaIntrospectionCustomRule,)))
        self._cache: OrderedDict[str, _Prepared] = OrderedDict()
        # Shapes the limit rules compute while validating, by id(document), taken right after.
        self._shapes: dict[int, dict[str | None, OperationShape]] = {}
        self._rules = (*self._base_rules, *make_limit_rules(limits, self._keep_shape))

    def route(self, path: str = "/graphql", name: str = "graphql") -> Route:
        """A Starlette route for GET and POST (Starlette treats this instance as an ASGI app)."""
        return Route(path, self, methods=["GET", "POST"], name=name)

    def clear_cache(self) -> None:
        self._cache.clear()

    # --- HTTP --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._handle(request, scope, receive)
        except _RequestError as refusal:
            response = refusal.response
        except PayloadTooLargeError as exc:
            response = self._too_large(exc.limit)
        await response(scope, receive, send)

    async def _handle(self, request: Request, scope: Scope, receive: Receive) -> Response:
        method = scope["method"]
        if method == "POST":
            content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
            if content_type == "application/json" or content_type.endswith("+json"):
                return await self._post_json(request, scope, receive)
            if content_type == "multipart/form-data":
                return await self._post_multipart(request, scope, receive)
            raise _RequestError(415, "Send the GraphQL request as application/json "
                                     "(or multipart/form-data with a GraphQL-Preflight header "
                                     "for uploads).")
        if method == "GET":
            if self.graphiql and "text/html" in request.headers.get("accept", ""):
                return graphiql_response(request)
            params = request.query_params
            variables = params.get("variables")
            if variables is not None:
                variables = self._decode(variables.encode(), "the 'variables' parameter")
            return await self._run(request, params.get("query"), variables,
                                   params.get("operationName"), over_get=True)
        raise _RequestError(405, f"Method {method} is not allowed: use POST (or GET for "
                                 "queries).", headers={"Allow": "GET, POST"})

    async def _post_json(self, request: Request, scope: Scope, receive: Receive) -> Response:
        limit = self.max_body_bytes
        length = declared_length(request)
        if length is not None and length > limit:
            return self._too_large(limit)
        body = await Request(scope, limited_receive(receive, limit)).body()
        payload = self._decode(body, "the request body")
        if isinstance(payload, list):
            raise _RequestError(400, "batched queries are not supported: send one operation per "
                                     "request")
        if not isinstance(payload, dict):
            raise _RequestError(400, "The request body must be a JSON object with 'query', "
                                     "'variables' and 'operationName'.")
        return await self._run(request, payload.get("query"), payload.get("variables"),
                               payload.get("operationName"))

    async def _post_multipart(self, request: Request, scope: Scope, receive: Receive) -> Response:
        if not has_preflight_header(request):
            raise _RequestError(400, "Multipart requests must carry a 'GraphQL-Preflight: 1' (or "
                                     "'Apollo-Require-Preflight') header, which protects against "
                                     "cross-site request forgery.")
        if self.authorize_upload is not None:
            try:
                if iscoroutinefunction(self.authorize_upload):
                    await self.authorize_upload(request)
                else:
                    await to_thread.run_sync(self.authorize_upload, request, limiter=self.limiter)
            except Exception as exc:  # the body stays unread: close rather than drain it
                refusal = self._context_failed(exc)
                refusal.headers["Connection"] = "close"
                return refusal
        limit = self.max_upload_bytes
        length = declared_length(request)
        if length is not None and length > limit:
            return self._too_large(limit)
        request = Request(scope, limited_receive(receive, limit))
        try:
            try:
                payload = await read_multipart(request, max_files=self.max_upload_files,
                                               max_field_bytes=self.max_body_bytes)
            except MultipartRequestError as exc:
                raise _RequestError(400, str(exc)) from None
            return await self._run(request, payload.get("query"), payload.get("variables"),
                                   payload.get("operationName"))
        finally:
            await request.close()  # the spooled upload files

    def _too_large(self, limit: int) -> Response:
        return _error_response(413, f"The request body is larger than the limit of "
                                    f"{describe_bytes(limit)}.", "PAYLOAD_TOO_LARGE",
                               headers={"Connection": "close"}, limitBytes=limit)

    @staticmethod
    def _decode(raw: bytes, what: str) -> Any:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _RequestError(400, f"Malformed JSON in {what}: {exc}") from None

    # --- GraphQL -----------------------------------------------------------------------------

    async def _run(self, request: Request, query: Any, variables: Any, operation_name: Any,
                   *, over_get: bool = False) -> Response:
        if not isinstance(query, str) or not query:
            raise _RequestError(400, "Send the operation text as a non-empty string in 'query'.")
        if variables is not None and not isinstance(variables, dict):
            raise _RequestError(400, "'variables' must be a JSON object.")
        if operation_name is not None and not isinstance(operation_name, str):
            raise _RequestError(400, "'operationName' must be a string.")
        prepared = self.prepare(query)
        if prepared.refusal is not None:
            return Response(prepared.refusal, status_code=400, media_type="application/json")
        operation = self._select(prepared, operation_name)
        # For the request metrics (web/observability.py): which operation this request ran.
        request.state.graphql_operation = operation.node.name.value if operation.node.name else None
        if operation.kind is not OperationType.QUERY:
            if over_get:
                raise _RequestError(405, f"A {operation.kind.value} cannot be sent with GET: use "
                                         "POST.", headers={"Allow": "POST"})
            if operation.kind is OperationType.SUBSCRIPTION:
                raise _RequestError(400, "Subscriptions are not served over HTTP.")
        variables = variables or {}
        if operation.shape is not None:
            limit_errors = check_variables(operation.shape, operation.node, variables, self.limits)
            if limit_errors:
                return ORJSONResponse({"errors": [e.formatted for e in limit_errors]},
                                      status_code=400)

        document: Any = prepared.document  # set whenever there is no refusal
        context: EndpointContext | None = None
        if self._async_factory:
            try:
                context = await self.context_factory(request)  # type: ignore[misc]
            except Exception as exc:
                return self._context_failed(exc)
        # Everything that may wait on a database — a key lookup, the resolvers' reads, the quota
        # ledger, settling held grants, encoding the answer — runs on a worker thread, at most
        # ``threads`` at once: one slow query never stalls the other requests (graphql-core's
        # execute is synchronous). Pages of rows in row order, which cannot scan, run here on
        # the loop: the hop would halve their throughput (``runs_inline``).
        if runs_inline(operation.node, variables, self.served_by_index):
            outcome = self._execute(request, context, document, variables, operation_name)
        else:
            outcome = await to_thread.run_sync(self._execute, request, context, document,
                                               variables, operation_name, limiter=self.limiter)
        if isinstance(outcome, Response):
            return outcome
        # An async resolver (an upload's, which hops to threads itself) left the rest of the
        # operation to be awaited here, on the loop.
        context, pending = outcome
        try:
            result = await pending
        except Exception as exc:  # pragma: no cover - graphql-core turns resolver errors into errors
            return self._unexpected(exc, "GraphQL execution failed")
        return await to_thread.run_sync(self._respond, context, result, limiter=self.limiter)

    def _execute(self, request: Request, context: EndpointContext | None, document: DocumentNode,
                 variables: dict[str, Any], operation_name: str | None
                 ) -> Response | tuple[EndpointContext, Awaitable[ExecutionResult]]:
        """On a worker thread: the context (a synchronous factory's), the execution, the answer."""
        if context is None:
            try:
                context = self.context_factory(request)  # type: ignore[assignment]
            except Exception as exc:
                return self._context_failed(exc)
            assert context is not None
        context.request = request
        result = execute(self.schema, document, variable_values=variables,
                         operation_name=operation_name, context_value=context,
                         execution_context_class=_ExecutionContext,
                         hide_suggestions=self._hide_suggestions)
        if isawaitable(result):
            return context, result
        return self._respond(context, result)

    def _context_failed(self, exc: Exception) -> Response:
        if isinstance(exc, ApiError):
            return _error_response(exc.http_status, exc.message, exc.code,
                                   headers=self._retry_after([exc.extensions]), **exc.extra)
        if is_database_unavailable(exc):
            return self._unavailable(exc, "GraphQL context")
        return self._unexpected(exc, "GraphQL context failed")

    def _unexpected(self, exc: Exception, what: str) -> Response:
        reference = secrets.token_hex(6)
        self.logger.error("%s (reference %s)", what, reference,
                          exc_info=(type(exc), exc, exc.__traceback__))
        return _error_response(500, f"Internal server error (reference {reference})", INTERNAL,
                               reference=reference)

    def _unavailable(self, exc: BaseException, where: str) -> Response:
        # Logged without a traceback: the database being away is an operational event, and its
        # text (hosts, ports, SQL) stays out of the response.
        self.logger.warning("database unavailable in %s: %s", where, type(exc).__name__)
        error = ServiceUnavailableError(retry_after=RETRY_AFTER_SECONDS)
        return _error_response(503, error.message, error.code,
                               headers={"Retry-After": str(error.retry_after)}, **error.extra)

    def _respond(self, context: EndpointContext, result: ExecutionResult) -> Response:
        held = context.grants
        if held:
            self._finish_held(held, result.data)

        status = 200
        headers = context.response_headers or None
        body: dict[str, Any] = {}
        if result.errors:
            errors = [self._format(error) for error in result.errors]
            if result.data is None and all(error.path is None for error in result.errors):
                status = 400  # nothing ran: variables did not coerce
            else:
                body["data"] = result.data
            retry = self._retry_after([e["extensions"] for e in errors])
            if retry is not None:
                status = 429
                headers = {**(headers or {}), **retry}
            if any(e["extensions"].get("code") == UNAVAILABLE for e in errors):
                # The database went away under the operation: the whole answer is "retry".
                status = 503
                headers = {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}
            body["errors"] = errors
        else:
            body["data"] = result.data
        extensions = context.response_extensions
        if extensions:
            body["extensions"] = extensions
        return ORJSONResponse(body, status_code=status, headers=headers)

    def _finish_held(self, held: MutableSequence[HeldGrant], data: dict[str, Any] | None) -> None:
        """Tell each held reservation whether its field is in the response; a failure to settle
        keeps what was reserved (metered ≥ served) and never costs the response.

        Then let go of them: a held page refers back to the context that holds it, and the
        reference cycle kept each response's page of rows alive until the garbage collector
        found it (the access path ran 20–28% slower for it)."""
        for item in held:
            try:
                item.finish(_delivered(data, item.path))
            except Exception:
                self.logger.exception("settling the reservation of %s failed",
                                      ".".join(map(str, item.path)))
        del held[:]

    def _select(self, prepared: _Prepared, operation_name: str | None) -> _Operation:
        operations = prepared.operations
        if operation_name is not None:
            operation = operations.get(operation_name)
            if operation is None:
                raise _RequestError(400, f"Unknown operation named '{operation_name}'.")
            return operation
        if len(operations) != 1:
            raise _RequestError(400, "Must provide operation name if query contains multiple "
                                     "operations.")
        return next(iter(operations.values()))

    @staticmethod
    def _retry_after(extensions: list[dict[str, Any]]) -> dict[str, str] | None:
        waits = [int(ext.get("retryAfter") or 0) for ext in extensions
                 if ext.get("code") in RETRY_LATER_CODES]
        return {"Retry-After": str(max(waits))} if waits else None

    def _format(self, error: GraphQLError) -> dict[str, Any]:
        original = error.original_error
        formatted: dict[str, Any]
        if original is not None and is_database_unavailable(original):
            self.logger.warning("database unavailable at %s: %s",
                                ".".join(map(str, error.path or ())), type(original).__name__)
            unavailable = ServiceUnavailableError(retry_after=RETRY_AFTER_SECONDS)
            formatted = {"message": unavailable.message}
            extensions: dict[str, Any] = unavailable.extensions
        elif original is not None and not isinstance(original, (ApiError, GraphQLError)):
            reference = secrets.token_hex(6)
            self.logger.error("GraphQL resolver failed at %s (reference %s)",
                              ".".join(map(str, error.path or ())), reference,
                              exc_info=(type(original), original, original.__traceback__))
            formatted = {"message": f"Internal server error (reference {reference})"}
            extensions = {"code": INTERNAL, "reference": reference}
        else:
            formatted = {"message": error.message}
            extensions = error.extensions or {}
            if "code" not in extensions:
                extensions = {**extensions, "code": INTERNAL}
        if error.locations:
            formatted["locations"] = [{"line": loc.line, "column": loc.column}
                                      for loc in error.locations]
        if error.path:
            formatted["path"] = error.path
        request_id = current_request_id()
        if request_id is not None:  # a new dict: error.extensions may be shared
            extensions = {**extensions, "requestId": request_id}
        formatted["extensions"] = extensions
        return formatted

    # --- parse + validate, cached ------------------------------------------------------------

    def prepare(self, query: str) -> _Prepared:
        """The parsed and validated document of a query text (from the cache when it can be)."""
        limit = self.limits.max_query_bytes
        if len(query) > limit or (not query.isascii() and len(query.encode()) > limit):
            raise _RequestError(400, f"The query text is longer than the limit of {limit} bytes.")
        cache = self._cache
        prepared = cache.get(query)
        if prepared is not None:
            cache.move_to_end(query)
            return prepared
        prepared = self._prepare(query)
        if self.cache_size > 0:
            cache[query] = prepared
            if len(cache) > self.cache_size:
                cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> _Prepared:
        tokens = self.limits.max_tokens
        try:
            document = parse(query, max_lexical_tokens=tokens, max_comments=tokens)
        except GraphQLSyntaxError as error:
            return _Prepared(None, {}, self._refusal([error], PARSE_FAILED))
        try:
            errors = validate(self.schema, document, self._rules,
                              hide_suggestions=self._hide_suggestions)
        finally:
            shapes = self._shapes.pop(id(document), {})
        if errors:
            return _Prepared(None, {}, self._refusal(errors, VALIDATION_FAILED))
        operations = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                name = definition.name.value if definition.name else None
                operations[name] = _Operation(definition, definition.operation, shapes.get(name))
        if not operations:  # pragma: no cover - ExecutableDefinitionsRule needs one operation
            return _Prepared(None, {}, self._refusal([GraphQLError("No operation.")], BAD_REQUEST))
        return _Prepared(document, operations)

    def _keep_shape(self, context: Any, operation: OperationDefinitionNode,
                    shape: OperationShape) -> None:
        name = operation.name.value if operation.name else None
        self._shapes.setdefault(id(context.document), {})[name] = shape

    def _refusal(self, errors: list[GraphQLError], code: str) -> bytes:
        formatted = []
        for error in errors:
            item = error.formatted
            item["extensions"] = {"code": code, **(error.extensions or {})}
            formatted.append(item)
        return orjson.dumps({"errors": formatted})
