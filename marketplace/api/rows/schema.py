"""The ``rows`` query: a page of an asset's rows as JSON objects (one scalar per row, not one
GraphQL field per cell: the page is the hot path), with the quota in ``extensions.quota`` and
in RateLimit headers.

Nothing served, nothing counted — also across fields: a request may hold several aliased
``rows`` fields, and a later one refused (a 429 with ``data: null``) takes the earlier pages out
of the response. So each page's unserved rows are settled only once the response is known: the
resolver leaves a ``HeldPage`` in ``context.grants`` and the endpoint calls ``finish`` with
whether the page reached the response. A page that did not gives all its rows back (its call
stays counted: the query ran, and the rate limit is about calls made).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import graphene
from graphene.types.generic import GenericScalar

from marketplace.api.context import RequestContext
from marketplace.api.errors import (
    BadUserInputError,
    ForbiddenError,
    QuotaExceededError,
    RateLimitedError,
    UnauthenticatedError,
)
from marketplace.datastore import QueryRejected
from marketplace.datastore.rows import Row
from marketplace.metering import Grant
from marketplace.services.access import (
    AccessDenied,
    ColumnRefused,
    QuotaRefused,
    RowAccess,
    RowsResult,
    WhereSpec,
    given_back,
)


class PageInfoPayload(TypedDict):
    end_cursor: str | None
    has_next_page: bool


class RowPagePayload(TypedDict):
    """What ``rows`` resolves to: the fields of ``RowPage`` (graphene reads them by key)."""

    rows: list[Row]
    columns: list[str]
    masked_columns: list[str]
    version: int
    page_info: PageInfoPayload


class RowPageInfo(graphene.ObjectType):
    end_cursor = graphene.String(description="Pass as `after` for the next page.")
    has_next_page = graphene.Boolean(required=True)


class RowPage(graphene.ObjectType):
    """A page of rows of the asset's current published version."""

    # One scalar for the whole page: completing a GraphQL value per row (or per cell) costs more
    # than querying the rows.
    rows = GenericScalar(required=True, description="The rows: a JSON array of objects, column name → value.")
    columns = graphene.List(graphene.NonNull(graphene.String), required=True,
                            description="The columns your licence lets you see, in order.")
    masked_columns = graphene.List(graphene.NonNull(graphene.String), required=True,
                                   description="Columns de-identified under your licence tier.")
    version = graphene.Int(required=True)
    page_info = graphene.Field(RowPageInfo, required=True)


class RowQueries(graphene.ObjectType):
    rows = graphene.Field(
        RowPage, required=True,
        description="Rows of a published asset under your licence: filter with `where` "
                    '(`{"所属区县": "霍山县", "注册资本": {"gte": 100}}`; operators eq ne lt lte gt '
                    "gte in contains), sort with `orderBy`, page with `first` (≤ 1000) and `after` "
                    "(an opaque cursor, valid for the same query only). A column your licence tier "
                    "masks or drops cannot be filtered on or sorted by (`FORBIDDEN`). "
                    "Every page is metered against your quota.",
        asset_id=graphene.ID(required=True), where=GenericScalar(), order_by=graphene.String(),
        descending=graphene.Boolean(default_value=False), first=graphene.Int(default_value=100),
        after=graphene.String())

    @staticmethod
    def resolve_rows(root: Any, info: Any, asset_id: str, first: int, descending: bool,
                     where: WhereSpec | None = None, order_by: str | None = None,
                     after: str | None = None) -> RowPagePayload:
        # graphene is untyped (root, info); ``where`` is the GenericScalar's JSON as sent, checked
        # by the access path (``parse_where`` refuses anything but an object).
        context: RequestContext = info.context
        access = context.row_access
        if first is None:  # an explicit null asks for the default page
            first = 100
        try:
            result = access.rows(
                context.caller, asset_id, where=where, order_by=order_by, descending=descending,
                after=after, first=first, settle_later=True)
        except QueryRejected as exc:
            raise BadUserInputError(exc.message) from None
        except ColumnRefused as exc:
            raise ForbiddenError(exc.message, field=exc.field, column=exc.column) from None
        except AccessDenied as exc:
            raise _denied(exc) from None
        except QuotaRefused as refused:
            raise quota_refusal(context, refused) from None
        report_quota(context, result.grant, own=result.reservation.record_id)
        context.grants.append(
            HeldPage(tuple(info.path.as_list()), _finisher(context, access, result)))
        return _page(result)


@dataclass(frozen=True)
class HeldPage:
    """A page whose unserved rows are settled once the response is known.

    :ivar path: the field's response path (``["rows"]``, ``["second"]`` for an alias)
    :ivar finish: told whether the page reached the response; settles the reservation
    """

    path: tuple[str | int, ...]
    finish: Callable[[bool], None]


def _finisher(context: RequestContext, access: RowAccess,
              result: RowsResult) -> Callable[[bool], None]:
    def finish(delivered: bool) -> None:
        reservation = result.reservation
        served = len(result.rows) if delivered else 0
        if access.settle(reservation, served) is reservation:
            return  # nothing to give back, or the ledger kept it (already fed)
        if context.quota_view is None:
            return
        view, own = context.quota_view
        if view.subject != reservation.subject:
            return
        # The quota shown counts this page's served rows if it is this page's own report, and
        # all its reserved rows if a later field's reservation reported it.
        counted = len(result.rows) if own == reservation.record_id else reservation.granted_rows
        if counted > served:
            report_quota(context, given_back(view, counted - served), own=own)

    return finish


def quota_refusal(context: RequestContext, refused: QuotaRefused) -> Exception:
    """The top-level error of a quota or rate-limit refusal (HTTP 429), quota reported."""
    grant = refused.grant
    report_quota(context, grant)
    if grant.refusal == "rate":
        return RateLimitedError(str(refused), retry_after=grant.retry_after_seconds)
    return QuotaExceededError(str(refused), retry_after=grant.retry_after_seconds,
                              reset_at=grant.reset_at.isoformat())


def _page(result: RowsResult) -> RowPagePayload:
    return {"rows": result.rows, "columns": list(result.columns),
            "masked_columns": list(result.masked), "version": result.version,
            "page_info": {"end_cursor": result.next_cursor,
                          "has_next_page": result.next_cursor is not None}}


def _denied(exc: AccessDenied) -> Exception:
    if exc.code == "UNAUTHENTICATED":
        return UnauthenticatedError(exc.message)
    if exc.code == "NOT_FOUND":
        return BadUserInputError(exc.message)
    return ForbiddenError(exc.message)


def report_quota(context: RequestContext, grant: Grant, *, own: str | None = None) -> None:
    """The quota on every data response: ``extensions.quota`` and RateLimit headers.

    :param own: the record id of the held page this grant is the view of (None: a refusal's or
        another reservation's grant)
    """
    context.quota_view = (grant, own)
    context.response_extensions["quota"] = grant.quota_extension()
    context.response_headers.update(quota_headers(grant, context.now()))


def quota_headers(grant: Grant | None, now: datetime) -> dict[str, str]:
    """RateLimit headers of a grant (rows pages and export downloads alike); none without a
    monthly row quota."""
    if grant is None or grant.rows_remaining is None:
        return {}
    reset = max(0, int((grant.reset_at - now).total_seconds()))
    limit = str(grant.rows_used + grant.rows_remaining)
    return {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": str(grant.rows_remaining),
            "X-RateLimit-Reset": str(int(grant.reset_at.timestamp())),
            "RateLimit-Limit": limit, "RateLimit-Remaining": str(grant.rows_remaining),
            "RateLimit-Reset": str(reset)}
