"""The ``rows`` query: a page of an asset's rows as JSON objects (one scalar per row, not one
GraphQL field per cell: the page is the hot path), with the quota in ``extensions.quota`` and
in RateLimit headers."""

from __future__ import annotations

from typing import Any

import graphene
from graphene.types.generic import GenericScalar

from marketplace.api.errors import (
    BadUserInputError,
    ForbiddenError,
    QuotaExceededError,
    RateLimitedError,
    UnauthenticatedError,
)
from marketplace.datastore import QueryRejected
from marketplace.services.access import AccessDenied, QuotaRefused, RowsResult


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
                    "gte in contains), sort with `orderBy`, page with `first` (≤ 1000) and `after`. "
                    "Every page is metered against your quota.",
        asset_id=graphene.ID(required=True), where=GenericScalar(), order_by=graphene.String(),
        descending=graphene.Boolean(default_value=False), first=graphene.Int(default_value=100),
        after=graphene.String())

    @staticmethod
    def resolve_rows(root: Any, info: Any, asset_id: str, first: int, descending: bool,
                     where: Any = None, order_by: str | None = None, after: str | None = None) -> dict:
        context = info.context
        try:
            result = context["row_access"].rows(
                context["caller"], asset_id, where=where, order_by=order_by, descending=descending,
                after=after, first=first)
        except QueryRejected as exc:
            raise BadUserInputError(exc.message) from None
        except AccessDenied as exc:
            raise _denied(exc) from None
        except QuotaRefused as refused:
            _report_quota(context, refused.grant)
            if refused.grant.refusal == "rate":
                raise RateLimitedError(str(refused), retry_after=refused.grant.retry_after_seconds) from None
            raise QuotaExceededError(str(refused), retry_after=refused.grant.retry_after_seconds,
                                     reset_at=refused.grant.reset_at.isoformat()) from None
        _report_quota(context, result.grant)
        return _page(result)


def _page(result: RowsResult) -> dict:
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


def _report_quota(context: dict, grant: Any) -> None:
    """The quota on every data response: ``extensions.quota`` and RateLimit headers."""
    context.setdefault("response_extensions", {})["quota"] = grant.quota_extension()
    headers = context.setdefault("response_headers", {})
    reset = max(0, int((grant.reset_at - context["now"]()).total_seconds()))
    if grant.rows_remaining is not None:
        headers["X-RateLimit-Limit"] = str(grant.rows_used + grant.rows_remaining)
        headers["X-RateLimit-Remaining"] = str(grant.rows_remaining)
        headers["X-RateLimit-Reset"] = str(int(grant.reset_at.timestamp()))
        headers["RateLimit-Limit"] = headers["X-RateLimit-Limit"]
        headers["RateLimit-Remaining"] = str(grant.rows_remaining)
        headers["RateLimit-Reset"] = str(reset)
