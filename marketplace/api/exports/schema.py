"""The ``requestExport`` mutation: checks who asks and what (one call, no rows yet) and answers a
short-lived signed link, ``/exports/<token>``, that streams the rows (metered as they go)."""

from __future__ import annotations

from typing import Any

import graphene
from graphene.types.generic import GenericScalar

from marketplace.api.errors import UnauthenticatedError
from marketplace.api.payload import user_error_type
from marketplace.api.rows.schema import quota_refusal, report_quota
from marketplace.datastore import QueryRejected
from marketplace.services.access import AccessDenied, ColumnRefused, QuotaRefused
from marketplace.services.exports import ExportRefused

EXPORT_ERROR_CODES = ("NOT_FOUND", "FORBIDDEN", "INVALID_FILTER", "UNKNOWN_COLUMN",
                      "COLUMN_NOT_LICENSED", "FORMAT_UNAVAILABLE", "INVALID_FORMAT")
ExportErrorCode = graphene.Enum("ExportErrorCode", [(c, c) for c in EXPORT_ERROR_CODES])
ExportError = user_error_type("ExportError", ExportErrorCode)


class ExportFormat(graphene.Enum):
    """How the rows are written: CSV (UTF-8, no BOM, a header row), NDJSON (a JSON object a
    line) or Parquet (a row group per block of 5,000 rows)."""

    CSV = "csv"
    NDJSON = "ndjson"
    PARQUET = "parquet"


class Export(graphene.ObjectType):
    """A signed link to an export of one published version of an asset."""

    url = graphene.String(required=True, description="GET it (no credentials needed: the link is "
                                                     "one) before `expiresAt`; add `?after_row=N` to "
                                                     "resume after the first N rows.")
    path = graphene.String(required=True, description="The link's path, for clients that reach "
                                                      "the bank at another address.")
    expires_at = graphene.DateTime(required=True)
    format = graphene.Field(ExportFormat, required=True)
    version = graphene.Int(required=True, description="The asset version the link exports.")
    row_estimate = graphene.Int(required=True, description="Rows the export holds (filters "
                                                           "applied); your quota may cut it short.")


class RequestExportPayload(graphene.ObjectType):
    export = graphene.Field(Export)
    errors = graphene.List(graphene.NonNull(ExportError), required=True)


class RequestExport(graphene.Mutation):
    """A short-lived (15 min) signed link that streams a published asset's rows as CSV, NDJSON or
    Parquet under your licence (masked by its tier). Counts one call (under your plan's rate
    limit: past it, `RATE_LIMITED`) and no rows: the download reserves them, 5,000 rows at a
    time, and stops at your quota's edge. `where` may not name a column your tier masks or
    drops (`FORBIDDEN` on `where`). Needs an API key with `exports:read` (or `rows:read`) or a
    login. The link dies with the API key that asked for it."""

    class Arguments:
        asset_id = graphene.ID(required=True)
        format = ExportFormat(required=True)
        where = GenericScalar(description='Only rows matching it, as in `rows`: '
                                          '`{"所属区县": "霍山县", "注册资本": {"gte": 100}}`.')
        columns = graphene.List(graphene.NonNull(graphene.String),
                                description="These columns, in this order (default: every "
                                            "column your licence shows).")

    Output = RequestExportPayload

    @staticmethod
    def mutate(root: Any, info: Any, asset_id: str, format: Any, where: Any = None,
               columns: list[str] | None = None) -> dict:
        context = info.context
        caller = context.caller
        if caller.actor.role.value == "anonymous":
            raise UnauthenticatedError("exports need an API key or a login")
        fmt = getattr(format, "value", format)
        try:
            link = context.exports.request(caller, asset_id, format=fmt, where=where,
                                           columns=columns)
        except QueryRejected as exc:
            return _refused(exc.message, "INVALID_FILTER", "where")
        except ExportRefused as exc:
            return _refused(exc.message, exc.code, exc.field)
        except ColumnRefused as exc:
            return _refused(exc.message, "FORBIDDEN", exc.field)
        except QuotaRefused as refused:
            raise quota_refusal(context, refused) from None
        except AccessDenied as exc:
            if exc.code == "UNAUTHENTICATED":
                raise UnauthenticatedError(exc.message) from None
            return _refused(exc.message, "NOT_FOUND" if exc.code == "NOT_FOUND" else "FORBIDDEN",
                            "assetId")
        if link.grant is not None:
            report_quota(context, link.grant)
        url = context.public_url.rstrip("/") + link.path
        return {"export": {"url": url, "path": link.path, "expires_at": link.expires_at,
                           "format": link.format, "version": link.version,
                           "row_estimate": link.row_estimate}, "errors": []}


def _refused(message: str, code: str, field: str | None) -> dict:
    return {"export": None, "errors": [{"field": field, "message": message, "code": code}]}


class ExportMutations(graphene.ObjectType):
    request_export = RequestExport.Field()
