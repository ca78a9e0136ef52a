"""Usage queries for a caller: usage per subscription (live counters), daily usage rows, and
totals per asset and per department (from the ledger's metered daily rows).

Who sees what: members their current organisation's usage (an API key needs the ``usage:read``
scope and sees its own organisation's), publishers their department's assets, administrators
everything. Out of scope is an empty answer, like an organisation's subscriptions; the totals
refuse others (``NotAllowed``). Anonymous callers are counted per client IP address
(``anon:<ip>``): only administrators see those addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypedDict, cast

from domain.actors import Actor, Role
from domain.errors import InvalidInputError
from domain.metering import check_period, period_of, period_reset_at
from marketplace.metering import QuotaLedger
from marketplace.projections.catalogue_view import CatalogueView
from marketplace.projections.entitlements import EntitlementsView
from marketplace.views.catalogue_entries import CatalogueEntry
from marketplace.views.errors import InvalidQuery, NotAllowed
from marketplace.views.organisations import organisation_in_scope

#: The longest day range a report covers, both ends included.
MAX_DAYS = 366
#: The subject of an anonymous caller's usage: this prefix and the client's IP address.
ANONYMOUS_PREFIX = "anon:"
#: The one subject all anonymous callers' usage shows under to anyone but administrators.
ANONYMOUS = "anonymous"
USAGE_SCOPE = "usage:read"


class UsageCaller(Protocol):
    """Who asks (``marketplace.services.access.Caller`` is one): the actor, and the scopes of the
    API key used (None for a login token)."""

    @property
    def actor(self) -> Actor: ...
    @property
    def scopes(self) -> tuple[str, ...] | None: ...


class SubscriptionUsage(TypedDict):
    """What one subscription used in one period (China-time month), from the live counters."""

    subscription_id: str
    status: str
    asset_id: str
    #: the plan's values when subscribed (the entitlements read model's snapshot)
    plan: Mapping[str, object]
    period: str
    rows_used: int
    calls_used: int
    bytes_used: int
    rows_quota: int | None
    calls_quota: int | None
    rows_remaining: int | None
    calls_remaining: int | None
    reset_at: datetime


class UsageDay(TypedDict):
    """Usage of one subject on one asset on one day (China time), once metered."""

    day: str
    #: a subscription id, ``anon:<ip>`` (administrators) or ``anonymous``
    subject: str
    organisation_id: str | None
    asset_id: str | None
    department_id: str | None
    rows: int
    calls: int
    bytes: int


class AssetUsage(TypedDict):
    """Usage of one asset over a day range, all subjects together."""

    asset_id: str
    department_id: str | None
    rows: int
    calls: int
    bytes: int
    #: distinct subscriptions (and anonymous callers) that used it
    subjects: int


class DepartmentUsage(TypedDict):
    """Usage of one department's assets over a day range."""

    department_id: str
    rows: int
    calls: int
    bytes: int
    #: distinct assets used
    assets: int


@dataclass(frozen=True)
class _Total:
    rows: int
    calls: int
    bytes: int
    department_id: str | None
    count: int


class UsageQueries:
    """The usage read side for one caller at a time (built once, shared by requests)."""

    def __init__(self, ledger: QuotaLedger, entitlements: EntitlementsView,
                 catalogue: CatalogueView, clock: Callable[[], datetime]) -> None:
        """:param ledger: the quota ledger (live counters, metered daily rows)
        :param entitlements: the entitlements read model (organisations, subscriptions)
        :param catalogue: the catalogue read model (the assets usage names)
        :param clock: the access path's clock: the period its reservations count in
        """
        self._ledger = ledger
        self._entitlements = entitlements
        self._catalogue = catalogue
        self._clock = clock

    def usage(self, caller: UsageCaller, period: str | None = None,
              organisation_id: str | None = None) -> list[SubscriptionUsage]:
        """Usage per subscription of the caller's organisation (administrators: the one named)
        in ``period`` (``YYYY-MM``; default the current one)."""
        self._may_read_usage(caller)
        period = period or period_of(self._clock())
        try:
            check_period(period)
        except InvalidInputError as exc:
            raise InvalidQuery(exc.message, field="period") from None
        organisation = self._organisation(caller, organisation_id)
        if not organisation:
            return []
        reset_at = period_reset_at(period)
        found: list[SubscriptionUsage] = []
        for subscription in self._entitlements.subscriptions_of(organisation):
            counters = self._ledger.usage(subscription["id"], period)
            quotas = subscription["plan"]["quotas"]
            rows_quota, calls_quota = quotas.get("rows_per_month"), quotas.get("calls_per_month")
            found.append(SubscriptionUsage(
                subscription_id=subscription["id"], status=subscription["status"],
                asset_id=subscription["asset_id"], plan=subscription["plan"], period=period,
                rows_used=counters["rows"], calls_used=counters["calls"],
                bytes_used=counters["bytes"], rows_quota=rows_quota, calls_quota=calls_quota,
                rows_remaining=_remaining(rows_quota, counters["rows"]),
                calls_remaining=_remaining(calls_quota, counters["calls"]), reset_at=reset_at))
        return found

    def report(self, caller: UsageCaller, from_day: date, to_day: date, *,
               organisation_id: str | None = None, asset_id: str | None = None,
               department_id: str | None = None) -> list[UsageDay]:
        """Metered usage per day, subject and asset: a member's organisation's, a publisher's
        department's assets', anything for administrators (empty for anyone else)."""
        actor = self._may_read_usage(caller)
        _check_days(from_day, to_day)
        if actor.role is Role.PUBLISHER:
            if not actor.department_id:
                return []
            department_id = actor.department_id  # forced: a publisher sees their department
        elif actor.role is Role.MEMBER:
            organisation_id = self._organisation(caller, organisation_id)
            if not organisation_id:
                return []
        elif actor.role is not Role.ADMIN:
            return []
        rows = self._daily(from_day, to_day, organisation_id=organisation_id, asset_id=asset_id,
                           department_id=department_id)
        return rows if actor.role is Role.ADMIN else redact_anonymous(rows)

    def by_asset(self, caller: UsageCaller, from_day: date, to_day: date, *,
                 department_id: str | None = None) -> list[AssetUsage]:
        """Usage per asset, most rows first: administrators (any department), publishers (their
        own department's assets)."""
        actor = self._may_read_usage(caller)
        if actor.role is Role.PUBLISHER and actor.department_id:
            department_id = actor.department_id
        elif actor.role is not Role.ADMIN:
            raise NotAllowed("usage per asset is for administrators and publishers")
        _check_days(from_day, to_day)
        rows = self._daily(from_day, to_day, department_id=department_id)
        return [AssetUsage(asset_id=asset_id, department_id=total.department_id, rows=total.rows,
                           calls=total.calls, bytes=total.bytes, subjects=total.count)
                for asset_id, total in _totals(rows, lambda r: r["asset_id"],
                                               lambda r: r["subject"])]

    def by_department(self, caller: UsageCaller, from_day: date,
                      to_day: date) -> list[DepartmentUsage]:
        """Usage per providing department (administrators)."""
        actor = self._may_read_usage(caller)
        if actor.role is not Role.ADMIN:
            raise NotAllowed("usage per department is for administrators")
        _check_days(from_day, to_day)
        rows = self._daily(from_day, to_day)
        return [DepartmentUsage(department_id=department_id, rows=total.rows, calls=total.calls,
                                bytes=total.bytes, assets=total.count)
                for department_id, total in _totals(rows, lambda r: r["department_id"],
                                                    lambda r: r["asset_id"])]

    def asset(self, asset_id: str) -> CatalogueEntry | None:
        """The catalogue entry of an asset a usage answer names, whatever its status: the answer
        is already the caller's to see (their organisation used it, or it is their department's),
        and usage of an asset since withdrawn still names it."""
        return cast("CatalogueEntry | None", self._catalogue.get(asset_id))

    # ---- the rules ---------------------------------------------------------------------

    @staticmethod
    def _may_read_usage(caller: UsageCaller) -> Actor:
        """The actor, when the caller may read usage at all: an API key needs the scope."""
        if caller.scopes is not None and USAGE_SCOPE not in caller.scopes:
            raise NotAllowed(f"this API key has no {USAGE_SCOPE} scope")
        return caller.actor

    def _organisation(self, caller: UsageCaller, organisation_id: str | None) -> str | None:
        """The organisation whose usage the caller may see (None: none). An API key sees its own
        organisation only; a member their organisations (the current one by default); an
        administrator the one named."""
        actor = caller.actor
        if caller.scopes is not None:
            wanted = organisation_id or actor.organisation_id
            return wanted if wanted == actor.organisation_id else None
        return organisation_in_scope(self._entitlements, actor, organisation_id)

    def _daily(self, from_day: date, to_day: date, *, organisation_id: str | None = None,
               asset_id: str | None = None, department_id: str | None = None) -> list[UsageDay]:
        return cast(list[UsageDay], self._ledger.daily_usage(
            from_day=from_day, to_day=to_day, organisation_id=organisation_id, asset_id=asset_id,
            department_id=department_id))


def redact_anonymous(rows: Iterable[UsageDay]) -> list[UsageDay]:
    """Anonymous subjects carry the caller's IP address: for anyone but administrators the
    anonymous rows of a day and asset become one ``anonymous`` row."""
    merged: dict[tuple[str, str, str | None, str | None], UsageDay] = {}
    for row in rows:
        subject = ANONYMOUS if row["subject"].startswith(ANONYMOUS_PREFIX) else row["subject"]
        key = (row["day"], subject, row["asset_id"], row["organisation_id"])
        if key in merged:
            same = merged[key]
            same["rows"] += row["rows"]
            same["calls"] += row["calls"]
            same["bytes"] += row["bytes"]
        else:
            merged[key] = {**row, "subject": subject}
    return list(merged.values())


def _check_days(from_day: date, to_day: date) -> None:
    if to_day < from_day:
        raise InvalidQuery("toDay is before fromDay", field="toDay")
    if (to_day - from_day).days + 1 > MAX_DAYS:
        raise InvalidQuery(f"a report covers at most {MAX_DAYS} days", field="toDay")


def _remaining(quota: int | None, used: int) -> int | None:
    return None if quota is None else max(0, quota - used)


def _totals(rows: Iterable[UsageDay], group_of: Callable[[UsageDay], str | None],
            counted: Callable[[UsageDay], str | None]) -> list[tuple[str, _Total]]:
    """Rows, calls and bytes summed per group (rows without one are left out), with the number
    of distinct ``counted`` values; most rows first, then most calls, then by group."""
    sums: dict[str, list[int]] = {}
    departments: dict[str, str | None] = {}
    seen: dict[str, set[str | None]] = {}
    for row in rows:
        group = group_of(row)
        if group is None:
            continue
        measures = sums.setdefault(group, [0, 0, 0])
        measures[0] += row["rows"]
        measures[1] += row["calls"]
        measures[2] += row["bytes"]
        departments.setdefault(group, row["department_id"])
        seen.setdefault(group, set()).add(counted(row))
    totals = [(group, _Total(rows=r, calls=c, bytes=b, department_id=departments[group],
                             count=len(seen[group])))
              for group, (r, c, b) in sums.items()]
    return sorted(totals, key=lambda pair: (-pair[1].rows, -pair[1].calls, pair[0]))
