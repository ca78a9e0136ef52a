"""Typed answers of the API. Each model is a frozen dataclass built from the GraphQL answer
(``from_api``); ``raw`` keeps the answer as it came, for fields the model does not name.
Rows stay plain dicts (column name → value)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterator


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Asset:
    """A data asset (数据资产) of the catalogue."""

    id: str
    """The asset's id: pass it to ``client.assets.rows``."""
    code: str
    """The resource code (资源代码) issued from the classification, e.g. ``341500-1-01-001-0001``."""
    name: str
    """The asset's name (信息资源名称)."""
    status: str
    """``PUBLISHED``, ``DRAFT``, ``SUBMITTED``, ``APPROVED``, ``REJECTED`` or ``WITHDRAWN``."""
    category: str | None
    """The subject category (``ENTERPRISE``, ``POPULATION`` ...)."""
    department: str | None
    """The providing department's name."""
    department_id: str | None
    """The providing department's id."""
    open_type: str | None
    """``UNCONDITIONAL``, ``CONDITIONAL`` or ``NOT_OPEN`` (开放类型)."""
    update_cycle: str | None
    """How often the data is updated (``DAILY``, ``MONTHLY`` ...)."""
    current_version: int | None
    """The number of the published version, or None."""
    row_count: int | None
    """Rows in the published version, or None."""
    abstract: str | None = None
    """The summary (摘要); filled by ``catalogue.get``."""
    columns: list[dict] = field(default_factory=list)
    """The information items (name, dataType, sensitivity ...); filled by ``catalogue.get``."""
    raw: dict = field(default_factory=dict, repr=False)
    """The answer as it came."""

    @classmethod
    def from_api(cls, node: dict) -> "Asset":
        department = node.get("department") or {}
        version = node.get("currentVersion") or {}
        return cls(id=node["id"], code=node.get("resourceCode", ""), name=node.get("name", ""),
                   status=node.get("status", ""), category=node.get("category"),
                   department=department.get("name"), department_id=department.get("id"),
                   open_type=(node.get("opening") or {}).get("type"),
                   update_cycle=node.get("updateCycle"),
                   current_version=version.get("number"), row_count=version.get("rowCount"),
                   abstract=node.get("abstract"),
                   columns=list(node.get("informationItems") or []), raw=node)


@dataclass(frozen=True)
class Quota:
    """The quota state a data answer carries in ``extensions.quota`` (None: unlimited)."""

    rows_remaining: int | None
    """Rows left this month."""
    calls_remaining: int | None
    """Calls left this month."""
    rows_used: int | None
    """Rows used this month."""
    calls_used: int | None
    """Calls used this month."""
    reset_at: datetime | None
    """When the month's quota resets (00:00 on the 1st, China time)."""
    rate_limit: int | None
    """Calls allowed per minute."""
    rate_remaining: int | None
    """Calls left this minute."""

    @classmethod
    def from_api(cls, quota: dict | None) -> "Quota | None":
        if not quota:
            return None
        return cls(rows_remaining=quota.get("rowsRemaining"),
                   calls_remaining=quota.get("callsRemaining"), rows_used=quota.get("rowsUsed"),
                   calls_used=quota.get("callsUsed"), reset_at=_dt(quota.get("resetAt")),
                   rate_limit=quota.get("rateLimit"), rate_remaining=quota.get("rateRemaining"))


@dataclass(frozen=True)
class RowsPage:
    """One page of an asset's rows, as the ``Rows`` operation answers it."""

    rows: list[dict]
    """The rows: column name → value, masked by your licence tier."""
    columns: list[str]
    """The columns you may see."""
    masked_columns: list[str]
    """The columns de-identified under your tier."""
    version: int | None
    """The asset version the rows come from."""
    end_cursor: str | None
    """Pass as ``after`` for the next page."""
    has_next_page: bool
    """Whether another page follows."""
    quota: Quota | None
    """The quota after this page (None when the answer carried none)."""

    @classmethod
    def from_api(cls, rows: dict, quota: dict | None) -> "RowsPage":
        info = rows.get("pageInfo") or {}
        return cls(rows=list(rows.get("rows") or []), columns=list(rows.get("columns") or []),
                   masked_columns=list(rows.get("maskedColumns") or []),
                   version=rows.get("version"), end_cursor=info.get("endCursor"),
                   has_next_page=bool(info.get("hasNextPage")), quota=Quota.from_api(quota))


@dataclass(frozen=True)
class PlanQuotas:
    """The limits of a plan (None: unlimited)."""

    rows_per_month: int | None
    """Rows a calendar month."""
    calls_per_month: int | None
    """Calls a calendar month."""
    rate_limit_per_minute: int | None
    """Calls a clock minute."""

    @classmethod
    def from_api(cls, quotas: dict | None) -> "PlanQuotas":
        quotas = quotas or {}
        return cls(rows_per_month=quotas.get("rowsPerMonth"),
                   calls_per_month=quotas.get("callsPerMonth"),
                   rate_limit_per_minute=quotas.get("rateLimitPerMinute"))


@dataclass(frozen=True)
class Plan:
    """A plan an asset is offered under."""

    id: str
    """The plan's id: pass it to ``client.subscriptions.subscribe``."""
    name: str
    """The plan's name (``免费版`` ...)."""
    free: bool
    """Whether the plan costs nothing."""
    field_tier: str | None
    """``MASKED`` or ``FULL``: how personal data leaves."""
    quotas: PlanQuotas
    """The plan's limits."""
    terms_version: int | None = None
    """The licence's current terms version (accept it when subscribing)."""
    raw: dict = field(default_factory=dict, repr=False)
    """The answer as it came."""

    @classmethod
    def from_api(cls, node: dict) -> "Plan":
        return cls(id=node["id"], name=node.get("name", ""), free=bool(node.get("free")),
                   field_tier=node.get("fieldTier"), quotas=PlanQuotas.from_api(node.get("quotas")),
                   terms_version=(node.get("licenceTemplate") or {}).get("currentVersion"),
                   raw=node)


@dataclass(frozen=True)
class Subscription:
    """An organisation's subscription to a plan of an asset."""

    id: str
    """The subscription's id."""
    organisation_id: str
    """The subscribing organisation."""
    asset_id: str
    """The asset subscribed to."""
    status: str
    """``active``, ``pending_payment``, ``suspended``, ``revoked`` or ``expired``."""
    plan: Plan
    """The plan subscribed to."""
    terms_version: int | None
    """The licence terms version accepted."""
    started_at: datetime | None
    """When the subscription started."""
    asset_name: str | None = None
    """The asset's name (from ``subscriptions.list``)."""
    raw: dict = field(default_factory=dict, repr=False)
    """The answer as it came."""

    @classmethod
    def from_api(cls, node: dict) -> "Subscription":
        return cls(id=node["id"], organisation_id=node.get("organisationId", ""),
                   asset_id=node.get("assetId", ""), status=node.get("status", ""),
                   plan=Plan.from_api(node.get("plan") or {"id": ""}),
                   terms_version=node.get("termsVersion"), started_at=_dt(node.get("startedAt")),
                   asset_name=(node.get("asset") or {}).get("name"), raw=node)


@dataclass(frozen=True)
class ApiKey:
    """An API key (never its secret, which is shown once, at creation)."""

    id: str
    """The key's id: pass it to ``client.api_keys.revoke``."""
    name: str
    """The name it was given."""
    display: str
    """``dbk_<first 8>…``: how to recognise it."""
    scopes: list[str]
    """``rows:read``, ``usage:read``, ``catalogue:read``, ``exports:read``."""
    expires_at: datetime | None
    """When it stops working, or None."""
    last_used_on: date | None
    """The last day (China time) a request used it."""
    revoked: bool
    """Whether it was revoked."""
    created_at: datetime | None
    """When it was created."""
    raw: dict = field(default_factory=dict, repr=False)
    """The answer as it came."""

    @classmethod
    def from_api(cls, node: dict) -> "ApiKey":
        return cls(id=node["id"], name=node.get("name", ""), display=node.get("display", ""),
                   scopes=list(node.get("scopes") or []), expires_at=_dt(node.get("expiresAt")),
                   last_used_on=_day(node.get("lastUsedOn")), revoked=bool(node.get("revoked")),
                   created_at=_dt(node.get("createdAt")), raw=node)


@dataclass(frozen=True)
class CreatedApiKey:
    """A new API key with its secret: keep ``plaintext`` now, it is never shown again."""

    api_key: ApiKey
    """The key's record."""
    plaintext: str = field(repr=False)
    """The key itself (``dbk_`` and 40 characters)."""


@dataclass(frozen=True)
class AccessApplication:
    """An application for a conditionally open asset."""

    id: str
    """The application's id (pass it when subscribing once approved)."""
    asset_id: str
    """The asset applied for."""
    organisation_id: str
    """The applying organisation."""
    status: str
    """``submitted``, ``approved`` or ``rejected``."""
    purpose: str
    """What the data is for."""
    deadline: datetime | None
    """When the department must answer by."""
    reasons: list[str]
    """The department's reasons (a rejection's)."""
    raw: dict = field(default_factory=dict, repr=False)
    """The answer as it came."""

    @classmethod
    def from_api(cls, node: dict) -> "AccessApplication":
        return cls(id=node["id"], asset_id=node.get("assetId", ""),
                   organisation_id=node.get("organisationId", ""), status=node.get("status", ""),
                   purpose=node.get("purpose", ""), deadline=_dt(node.get("deadline")),
                   reasons=list(node.get("reasons") or []), raw=node)


@dataclass(frozen=True)
class SubscriptionUsage:
    """What one subscription used in a period, and what is left."""

    subscription_id: str
    """The subscription."""
    asset_id: str | None
    """The asset."""
    asset_name: str | None
    """The asset's name."""
    plan_name: str | None
    """The plan's name."""
    status: str
    """The subscription's status."""
    rows_used: int
    """Rows read in the period."""
    calls_used: int
    """Calls made in the period."""
    rows_quota: int | None
    """Rows allowed in the period (None: unlimited)."""
    rows_remaining: int | None
    """Rows left (None: unlimited)."""
    calls_remaining: int | None
    """Calls left (None: unlimited)."""
    reset_at: datetime | None
    """When the quota resets."""
    raw: dict = field(default_factory=dict, repr=False)
    """The answer as it came."""

    @classmethod
    def from_api(cls, node: dict) -> "SubscriptionUsage":
        asset, plan = node.get("asset") or {}, node.get("plan") or {}
        return cls(subscription_id=node["subscriptionId"], asset_id=asset.get("id"),
                   asset_name=asset.get("name"), plan_name=plan.get("name"),
                   status=node.get("status", ""), rows_used=int(node.get("rowsUsed") or 0),
                   calls_used=int(node.get("callsUsed") or 0), rows_quota=node.get("rowsQuota"),
                   rows_remaining=node.get("rowsRemaining"),
                   calls_remaining=node.get("callsRemaining"), reset_at=_dt(node.get("resetAt")),
                   raw=node)


@dataclass(frozen=True)
class Usage:
    """Usage of your organisation's subscriptions in one period; iterate for each subscription."""

    period: str | None
    """``YYYY-MM`` (China time)."""
    subscriptions: list[SubscriptionUsage]
    """One entry per subscription."""

    def __iter__(self) -> Iterator[SubscriptionUsage]:
        return iter(self.subscriptions)

    def __len__(self) -> int:
        return len(self.subscriptions)

    def __str__(self) -> str:
        lines = [f"usage {self.period or ''}".rstrip()]
        for s in self.subscriptions:
            left = "unlimited" if s.rows_remaining is None else f"{s.rows_remaining:,} rows left"
            reset = f", resets {s.reset_at.isoformat()}" if s.reset_at else ""
            lines.append(f"  {s.asset_name} [{s.plan_name}, {s.status}]: {s.rows_used:,} rows used,"
                         f" {left}{reset}")
        return "\n".join(lines)


@dataclass(frozen=True)
class UsageReportRow:
    """Metered usage of one day, subject and asset."""

    day: date
    """The day (China time)."""
    subject: str
    """The subscription id, or ``anonymous``."""
    asset_id: str | None
    """The asset."""
    asset_name: str | None
    """The asset's name."""
    rows: int
    """Rows served."""
    calls: int
    """Calls made."""
    bytes: float
    """Bytes served."""

    @classmethod
    def from_api(cls, node: dict) -> "UsageReportRow":
        asset = node.get("asset") or {}
        return cls(day=date.fromisoformat(node["day"]), subject=node.get("subject", ""),
                   asset_id=asset.get("id"), asset_name=asset.get("name"),
                   rows=int(node.get("rows") or 0), calls=int(node.get("calls") or 0),
                   bytes=float(node.get("bytes") or 0))


@dataclass(frozen=True)
class Viewer:
    """Who the credentials say you are."""

    id: str | None
    """The user id (None when anonymous)."""
    name: str | None
    """The display name."""
    role: str
    """``ADMIN``, ``REVIEWER``, ``PUBLISHER``, ``MEMBER`` or ``ANONYMOUS``."""
    organisation_id: str | None
    """The organisation a member or key acts for."""

    @classmethod
    def from_api(cls, node: dict) -> "Viewer":
        return cls(id=node.get("id"), name=node.get("name"), role=node.get("role", ""),
                   organisation_id=node.get("organisationId"))


def usage_from_api(nodes: list[dict], period: str | None) -> Usage:
    entries = [SubscriptionUsage.from_api(n) for n in nodes]
    return Usage(period=period or (nodes[0].get("period") if nodes else None), subscriptions=entries)


def field_errors(payload: dict) -> list[Any]:
    from databank.errors import FieldError

    return [FieldError(field=e.get("field"), message=e.get("message", ""), code=e.get("code", ""))
            for e in payload.get("errors") or []]
