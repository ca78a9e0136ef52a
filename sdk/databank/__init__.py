"""The Python SDK of the Lu'an Data Bank (六安市数据银行).

::

    import databank

    client = databank.Client(api_key="dbk_...")   # base URL from DATABANK_URL
    for asset in client.catalogue.search("企业", category="enterprise"):
        print(asset.code, asset.name, asset.department)
    df = client.assets.export(asset.id, format="parquet").to_pandas()
"""

from databank._client import AsyncClient, Client
from databank._version import __version__
from databank.errors import (APIConnectionError, APIStatusError, APITimeoutError,
                             AuthenticationError, BadRequestError, ConflictError, DatabankError,
                             FieldError, InternalServerError, InvalidQueryError, MutationError,
                             NotFoundError, PermissionDeniedError, QuotaExceededError,
                             RateLimitError)
from databank._export import ExportLink
from databank.exports import AsyncExport, Export
from databank.models import (AccessApplication, ApiKey, Asset, CreatedApiKey, Plan, PlanQuotas,
                             Quota, RowsPage, Subscription, SubscriptionUsage, Usage,
                             UsageReportRow, Viewer)

__all__ = [
    "__version__", "Client", "AsyncClient",
    "DatabankError", "APIConnectionError", "APITimeoutError", "APIStatusError", "BadRequestError",
    "InvalidQueryError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
    "ConflictError", "QuotaExceededError", "RateLimitError", "InternalServerError",
    "MutationError", "FieldError", "Export", "AsyncExport", "ExportLink",
    "AccessApplication", "ApiKey", "Asset", "CreatedApiKey", "Plan", "PlanQuotas", "Quota",
    "RowsPage", "Subscription", "SubscriptionUsage", "Usage", "UsageReportRow", "Viewer",
]
