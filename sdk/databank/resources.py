"""The API by namespace: ``catalogue``, ``assets``, ``subscriptions``, ``api_keys``,
``applications``, ``usage``.

Each resource is written once and serves both clients: it builds the ``Call`` and hands it to its
client. On a ``Client`` a method returns the result; on an ``AsyncClient`` the same method returns
an awaitable of it, and the paginated ones (``catalogue.search``, ``assets.rows``) an async
iterator (``async for``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from databank import errors
from databank._core import Call
from databank._export import check_format, export_call, reporter
from databank._pagination import Page, PageSpec
from databank.models import (AccessApplication, ApiKey, Asset, CreatedApiKey, Plan, RowsPage,
                             Subscription, UsageReportRow, Viewer, field_errors, usage_from_api)

if TYPE_CHECKING:
    from databank._client import _ClientBase

#: The server's largest page of rows (``first`` of ``rows``).
MAX_ROWS_PAGE = 1000
#: The server's largest catalogue page.
MAX_CATALOGUE_PAGE = 100


def _enum(value: str | None) -> str | None:
    """``"enterprise"`` → ``"ENTERPRISE"``: GraphQL enum values are upper case."""
    return value.upper().replace("-", "_") if isinstance(value, str) else value


def _payload(operation: str, key: str, data: dict) -> dict:
    payload = data.get(key) or {}
    problems = field_errors(payload)
    if problems:
        raise errors.MutationError(operation, problems)
    return payload


class _Resource:
    def __init__(self, client: "_ClientBase") -> None:
        self._client = client


class Catalogue(_Resource):
    """The catalogue (目录): search published assets, look one up."""

    def search(self, text: str | None = None, *, category: str | None = None,
               open_type: str | None = None, department_id: str | None = None,
               class_code: str | None = None, status: list[str] | None = None,
               page_size: int = 50, limit: int | None = None) -> Any:
        """Assets matching ``text`` (any substring, Chinese included) and the filters, in
        resource-code order, fetched page by page as you iterate.

        :param category: ``enterprise``, ``population``, ``transport`` ... (any case)
        :param open_type: ``unconditional``, ``conditional`` or ``not_open``
        :param page_size: assets per request (1 to 100)
        :param limit: stop after this many assets
        """
        call = Call("SearchCatalogue", {
            "search": text, "category": _enum(category), "openType": _enum(open_type),
            "departmentId": department_id, "classCode": class_code,
            "status": [_enum(s) for s in status] if status else None},
            parse=lambda data, ext: data.get("catalogue") or {})

        def to_page(result: dict) -> Page[Asset]:
            info = result.get("pageInfo") or {}
            return Page([Asset.from_api(n) for n in result.get("nodes") or []],
                        info.get("endCursor"), bool(info.get("hasNextPage")), result)

        spec = PageSpec(call, to_page, page_size=min(page_size, MAX_CATALOGUE_PAGE), limit=limit)
        return self._client._paginate(spec)

    def get(self, asset_id: str) -> Any:
        """One asset with its information items; ``NotFoundError`` when there is none visible."""

        def parse(data: dict, ext: dict) -> Asset:
            node = data.get("asset")
            if node is None:
                raise errors.NotFoundError(f"no data asset {asset_id!r} is visible to you",
                                           status_code=200, body=data, code="NOT_FOUND")
            return Asset.from_api(node)

        return self._client._request(Call("GetAsset", {"id": asset_id}, parse=parse))


class Assets(_Resource):
    """An asset's rows and plans."""

    def rows(self, asset_id: str, *, where: Mapping[str, Any] | None = None,
             order_by: str | None = None, descending: bool | None = None,
             limit: int | None = None, page_size: int = MAX_ROWS_PAGE) -> Any:
        """The rows of the asset's published version under your licence, as dicts, fetched page
        by page (keyset cursors) as you iterate. ``.last_page`` is the last ``RowsPage``
        (columns, masked columns, quota after it).

        :param where: conditions on columns, all of which must hold: ``{"所属区县": "霍山县",
            "注册资本": {"gte": 100}}`` (operators ``eq ne lt lte gt gte in contains``)
        :param order_by: one column to order by (default: upload order)
        :param limit: stop after this many rows (None: every row)
        :param page_size: rows per request, at most 1000
        """
        if not 1 <= page_size <= MAX_ROWS_PAGE:
            raise ValueError(f"page_size must be 1 to {MAX_ROWS_PAGE}")
        call = self._rows_call(asset_id, where, order_by, descending)

        def to_page(page: RowsPage) -> Page[dict]:
            return Page(page.rows, page.end_cursor, page.has_next_page, page)

        return self._client._paginate(PageSpec(call, to_page, page_size=page_size, limit=limit))

    def rows_page(self, asset_id: str, *, where: Mapping[str, Any] | None = None,
                  order_by: str | None = None, descending: bool | None = None,
                  first: int = 100, after: str | None = None) -> Any:
        """One page of rows (a ``RowsPage``: rows, columns, cursor, quota)."""
        call = self._rows_call(asset_id, where, order_by, descending)
        return self._client._request(call.with_variables(first=first, after=after))

    def export(self, asset_id: str, *, format: str = "csv",
               where: Mapping[str, Any] | None = None, columns: list[str] | None = None,
               progress: Any = False) -> Any:
        """A bulk export of the asset's published version under your licence (an ``Export``;
        on an ``AsyncClient`` an awaitable of an ``AsyncExport``). Asks the server for a signed
        link now (refusals raise here: ``NotFoundError``, ``PermissionDeniedError``,
        ``InvalidQueryError`` for a bad ``where`` or column); the download happens when you call
        ``.save(path)``, ``.iter_rows()`` or ``.to_pandas()``, and resumes by itself after a
        dropped connection.

        :param format: ``csv``, ``ndjson`` or ``parquet`` (Parquet needs pyarrow on the server)
        :param where: conditions on columns, as in ``rows``
        :param columns: these columns, in this order (default: every column your tier shows)
        :param progress: ``True`` for a progress bar (tqdm when installed, else a line on
            stderr), or a callable ``(rows_done, rows_total)``
        """
        fmt = check_format(format)
        if where is not None and not isinstance(where, Mapping):
            raise TypeError("where must be a mapping of column → condition")
        if columns is not None and (isinstance(columns, str) or not columns):
            raise TypeError("columns is a non-empty list of column names")
        call = export_call(asset_id, fmt, dict(where) if where else None,
                           list(columns) if columns is not None else None)
        return self._client._export(call, fmt, reporter(progress))

    def plans(self, asset_id: str, *, include_retired: bool = False) -> Any:
        """The plans the asset is offered under (a list of ``Plan``)."""
        return self._client._request(Call(
            "Plans", {"assetId": asset_id, "includeRetired": include_retired},
            parse=lambda data, ext: [Plan.from_api(p) for p in data.get("plans") or []]))

    @staticmethod
    def _rows_call(asset_id: str, where: Mapping[str, Any] | None, order_by: str | None,
                   descending: bool | None) -> Call:
        if where is not None and not isinstance(where, Mapping):
            raise TypeError("where must be a mapping of column → condition")
        return Call("Rows", {"assetId": asset_id, "where": dict(where) if where else None,
                             "orderBy": order_by, "descending": descending},
                    parse=lambda data, ext: RowsPage.from_api(data.get("rows") or {},
                                                              ext.get("quota")))


class Subscriptions(_Resource):
    """Your organisation's subscriptions."""

    def list(self, *, organisation_id: str | None = None) -> Any:
        """The subscriptions (a list of ``Subscription``)."""
        return self._client._request(Call(
            "Subscriptions", {"organisationId": organisation_id},
            parse=lambda data, ext: [Subscription.from_api(s)
                                     for s in data.get("subscriptions") or []]))

    def subscribe(self, plan_id: str, *, accepted_terms_version: int,
                  application_id: str | None = None, organisation_id: str | None = None) -> Any:
        """Subscribe to a plan, accepting the licence's terms version; ``MutationError`` when
        refused."""
        return self._client._request(Call(
            "Subscribe", {"planId": plan_id, "acceptedTermsVersion": accepted_terms_version,
                          "applicationId": application_id, "organisationId": organisation_id},
            parse=lambda data, ext: Subscription.from_api(
                _payload("Subscribe", "subscribe", data)["subscription"]),
            mutation=True))


class ApiKeys(_Resource):
    """Your organisation's API keys."""

    def list(self, *, organisation_id: str | None = None) -> Any:
        """The keys (a list of ``ApiKey``), never their secrets."""
        return self._client._request(Call(
            "ApiKeys", {"organisationId": organisation_id},
            parse=lambda data, ext: [ApiKey.from_api(k) for k in data.get("apiKeys") or []]))

    def create(self, name: str, *, scopes: Sequence[str] = ("rows:read",),
               expires_at: datetime | None = None, organisation_id: str | None = None) -> Any:
        """A new key (``CreatedApiKey``); its ``plaintext`` is shown this once."""

        def parse(data: dict, ext: dict) -> CreatedApiKey:
            payload = _payload("CreateApiKey", "createApiKey", data)
            return CreatedApiKey(ApiKey.from_api(payload["apiKey"]), payload["plaintext"])

        return self._client._request(Call(
            "CreateApiKey", {"name": name, "scopes": list(scopes), "expiresAt": expires_at,
                             "organisationId": organisation_id}, parse=parse, mutation=True))

    def revoke(self, key_id: str) -> Any:
        """Revoke a key (the revoked ``ApiKey``); it stops working on every worker at once."""
        return self._client._request(Call(
            "RevokeApiKey", {"keyId": key_id},
            parse=lambda data, ext: ApiKey.from_api(
                _payload("RevokeApiKey", "revokeApiKey", data)["apiKey"]),
            mutation=True))


class Applications(_Resource):
    """Applications for conditionally open assets."""

    def submit(self, asset_id: str, *, purpose: str, scenario: str, security_commitment: str,
               organisation_id: str | None = None) -> Any:
        """Apply for an asset (an ``AccessApplication``; ``deadline`` is when the department must
        answer)."""
        return self._client._request(Call(
            "SubmitAccessApplication",
            {"assetId": asset_id, "purpose": purpose, "scenario": scenario,
             "securityCommitment": security_commitment, "organisationId": organisation_id},
            parse=lambda data, ext: AccessApplication.from_api(
                _payload("SubmitAccessApplication", "submitAccessApplication", data)["application"]),
            mutation=True))

    def list(self, *, organisation_id: str | None = None) -> Any:
        """Your organisation's applications (a list of ``AccessApplication``)."""
        return self._client._request(Call(
            "AccessApplications", {"organisationId": organisation_id},
            parse=lambda data, ext: [AccessApplication.from_api(a)
                                     for a in data.get("applications") or []]))


class UsageResource(_Resource):
    """What your organisation used, and what is left."""

    def current(self, *, period: str | None = None, organisation_id: str | None = None) -> Any:
        """Usage per subscription in ``period`` (``YYYY-MM``; default this month): rows and
        calls used, quotas, what remains, when it resets (a ``Usage``; ``print`` it)."""
        return self._client._request(Call(
            "Usage", {"period": period, "organisationId": organisation_id},
            parse=lambda data, ext: usage_from_api(data.get("usage") or [], period)))

    def report(self, from_day: date | str, to_day: date | str, *,
               organisation_id: str | None = None, asset_id: str | None = None,
               department_id: str | None = None) -> Any:
        """Metered usage per day, subject and asset, both days included (a list of
        ``UsageReportRow``)."""
        return self._client._request(Call(
            "UsageReport", {"fromDay": str(from_day), "toDay": str(to_day),
                            "organisationId": organisation_id, "assetId": asset_id,
                            "departmentId": department_id},
            parse=lambda data, ext: [UsageReportRow.from_api(r)
                                     for r in data.get("usageReport") or []]))


def login_call(username: str, password: str) -> Call:
    def parse(data: dict, ext: dict) -> tuple[str, Viewer]:
        payload = _payload("Login", "login", data)
        return payload["token"], Viewer.from_api(payload.get("viewer") or {})

    return Call("Login", {"username": username, "password": password}, parse=parse, mutation=True)


def viewer_call() -> Call:
    return Call("Viewer", {}, parse=lambda data, ext: Viewer.from_api(data.get("viewer") or {}))
