"""Usage queries: a member's usage per subscription (live counters), daily usage rows, and
totals per asset and per department (from the ledger's metered daily rows).

Who sees what: members their current organisation's usage (an API key needs the `usage:read`
scope and sees its own organisation's), publishers their department's assets, administrators
everything. Out of scope is an empty answer, like `subscriptions`; the admin-only totals refuse
others with FORBIDDEN.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable

import graphene

from domain.actors import Actor, Role
from domain.errors import InvalidInputError
from domain.metering import check_period, period_of, period_reset_at
from marketplace.api.auth import require_signed_in
from marketplace.api.errors import BadUserInputError, ForbiddenError
from marketplace.api.licensing.queries import organisation_in_scope
from marketplace.api.usage import types as t

MAX_DAYS = 366
ANONYMOUS_PREFIX = "anon:"


def _signed_in(info: Any) -> Actor:
    """The caller, who must be signed in; an API key must carry the ``usage:read`` scope."""
    actor = require_signed_in(info)
    caller = info.context.caller
    if caller.scopes is not None and "usage:read" not in caller.scopes:
        raise ForbiddenError("this API key has no usage:read scope")
    return actor


def _organisation(info: Any, actor: Actor, organisation_id: str | None) -> str | None:
    """The organisation whose usage the caller may see (None: none)."""
    caller = info.context.caller
    if caller.scopes is not None:  # an API key: its own organisation only
        wanted = organisation_id or actor.organisation_id
        return wanted if wanted == actor.organisation_id else None
    return organisation_in_scope(info, actor, organisation_id)


def _day_range(from_day: date, to_day: date) -> None:
    if to_day < from_day:
        raise BadUserInputError("toDay is before fromDay", field="toDay")
    if (to_day - from_day).days + 1 > MAX_DAYS:
        raise BadUserInputError(f"a report covers at most {MAX_DAYS} days", field="toDay")


def _remaining(quota: int | None, used: int) -> int | None:
    return None if quota is None else max(0, quota - used)


def _redact(rows: Iterable[dict]) -> list[dict]:
    """Anonymous subjects carry the caller's IP: only administrators see it; for everyone else
    the anonymous rows of a day and asset become one ``anonymous`` row."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        subject = row["subject"]
        if subject.startswith(ANONYMOUS_PREFIX):
            subject = "anonymous"
        key = (row["day"], subject, row["asset_id"], row["organisation_id"])
        if key in merged:
            for measure in ("rows", "calls", "bytes"):
                merged[key][measure] += row[measure]
        else:
            merged[key] = {**row, "subject": subject}
    return list(merged.values())


def _total(rows: Iterable[dict], key: str, distinct: str) -> list[dict]:
    """Sum rows, calls and bytes per ``key``, counting distinct ``distinct`` values."""
    totals: dict[str, dict] = {}
    seen: dict[str, set] = {}
    for row in rows:
        group = row[key]
        if group is None:
            continue
        total = totals.setdefault(group, {key: group, "rows": 0, "calls": 0, "bytes": 0,
                                          "department_id": row["department_id"]})
        for measure in ("rows", "calls", "bytes"):
            total[measure] += row[measure]
        seen.setdefault(group, set()).add(row[distinct])
    for group, total in totals.items():
        total["count"] = len(seen[group])
    return sorted(totals.values(), key=lambda t: (-t["rows"], -t["calls"], t[key]))


class UsageQueries(graphene.ObjectType):
    usage = graphene.List(
        graphene.NonNull(t.SubscriptionUsage), required=True, period=graphene.String(),
        organisation_id=graphene.ID(),
        description="Usage per subscription of your current organisation in a period (`YYYY-MM`, "
                    "China time; default the current one), from the live quota counters. "
                    "Administrators name the organisation.")
    usage_report = graphene.List(
        graphene.NonNull(t.UsageDay), required=True, from_day=graphene.Date(required=True),
        to_day=graphene.Date(required=True), organisation_id=graphene.ID(), asset_id=graphene.ID(),
        department_id=graphene.ID(),
        description="Metered usage per day, subject and asset (at most 366 days, both ends "
                    "included): members see their organisation's, publishers their department's "
                    "assets', administrators anything.")
    usage_by_asset = graphene.List(
        graphene.NonNull(t.AssetUsage), required=True, from_day=graphene.Date(required=True),
        to_day=graphene.Date(required=True), department_id=graphene.ID(),
        description="Metered usage per asset over a day range, most rows first (administrators; "
                    "publishers get their department's assets).")
    usage_by_department = graphene.List(
        graphene.NonNull(t.DepartmentUsage), required=True, from_day=graphene.Date(required=True),
        to_day=graphene.Date(required=True),
        description="Metered usage per providing department over a day range (administrators).")

    @staticmethod
    def resolve_usage(root: Any, info: Any, period: str | None = None,
                      organisation_id: str | None = None) -> list[dict]:
        actor = _signed_in(info)
        # The access path's clock: the period its reservations count in.
        period = period or period_of(info.context.row_access.clock())
        try:
            check_period(period)
        except InvalidInputError as exc:
            raise BadUserInputError(exc.message, field="period") from None
        organisation = _organisation(info, actor, organisation_id)
        if not organisation:
            return []
        ledger = info.context.ledger
        reset_at = period_reset_at(period)
        found = []
        for subscription in info.context.entitlements_view.subscriptions_of(organisation):
            counters = ledger.usage(subscription["id"], period)
            quotas = subscription["plan"]["quotas"]
            rows_quota, calls_quota = quotas.get("rows_per_month"), quotas.get("calls_per_month")
            found.append({
                "subscription_id": subscription["id"], "status": subscription["status"],
                "asset_id": subscription["asset_id"], "plan": subscription["plan"],
                "period": period, "rows_used": counters["rows"], "calls_used": counters["calls"],
                "bytes_used": counters["bytes"], "rows_quota": rows_quota, "calls_quota": calls_quota,
                "rows_remaining": _remaining(rows_quota, counters["rows"]),
                "calls_remaining": _remaining(calls_quota, counters["calls"]),
                "reset_at": reset_at})
        return found

    @staticmethod
    def resolve_usage_report(root: Any, info: Any, from_day: date, to_day: date,
                             organisation_id: str | None = None, asset_id: str | None = None,
                             department_id: str | None = None) -> list[dict]:
        actor = _signed_in(info)
        _day_range(from_day, to_day)
        if actor.role is Role.PUBLISHER:
            if not actor.department_id:
                return []
            department_id = actor.department_id  # forced: a publisher sees their department
        elif actor.role is Role.MEMBER:
            organisation_id = _organisation(info, actor, organisation_id)
            if not organisation_id:
                return []
        elif actor.role is not Role.ADMIN:
            return []
        rows = info.context.ledger.daily_usage(
            from_day=from_day, to_day=to_day, organisation_id=organisation_id, asset_id=asset_id,
            department_id=department_id)
        return rows if actor.role is Role.ADMIN else _redact(rows)

    @staticmethod
    def resolve_usage_by_asset(root: Any, info: Any, from_day: date, to_day: date,
                               department_id: str | None = None) -> list[dict]:
        actor = _signed_in(info)
        if actor.role is Role.PUBLISHER and actor.department_id:
            department_id = actor.department_id
        elif actor.role is not Role.ADMIN:
            raise ForbiddenError("usage per asset is for administrators and publishers")
        _day_range(from_day, to_day)
        rows = info.context.ledger.daily_usage(from_day=from_day, to_day=to_day,
                                                  department_id=department_id)
        return [{**total, "subjects": total["count"]} for total in _total(rows, "asset_id", "subject")]

    @staticmethod
    def resolve_usage_by_department(root: Any, info: Any, from_day: date, to_day: date) -> list[dict]:
        actor = _signed_in(info)
        if actor.role is not Role.ADMIN:
            raise ForbiddenError("usage per department is for administrators")
        _day_range(from_day, to_day)
        rows = info.context.ledger.daily_usage(from_day=from_day, to_day=to_day)
        return [{**total, "assets": total["count"]} for total in _total(rows, "department_id", "asset_id")]
