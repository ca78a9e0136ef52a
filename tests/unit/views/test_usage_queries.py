"""The usage view's rules: whose usage a caller sees (members, API keys and their scope,
publishers, administrators), the refusals, the day range, and the anonymous callers' client
addresses that only administrators see. Ledger and read models are fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.actors import Actor, Role
from marketplace.views.errors import InvalidQuery, NotAllowed
from marketplace.views.usage import UsageQueries

TRANSPORT, ECOLOGY = "dep-transport", "dep-ecology"
ORG, OTHER_ORG = "org-1", "org-2"
DAY = date(2026, 3, 2)

ANONYMOUS = Actor("anonymous", "anonymous", Role.ANONYMOUS)
MEMBER = Actor("m1", "李明", Role.MEMBER, organisation_id=ORG)
OUTSIDER = Actor("m9", "王芳", Role.MEMBER, organisation_id=ORG)  # not among ORG's members
ADMIN = Actor("a1", "管理员", Role.ADMIN)
REVIEWER = Actor("r1", "审核员", Role.REVIEWER, department_id=ECOLOGY)
PUBLISHER = Actor("p1", "交通局数据专员", Role.PUBLISHER, department_id=TRANSPORT)
PUBLISHER_WITHOUT_DEPARTMENT = Actor("p0", "无部门", Role.PUBLISHER)


@dataclass(frozen=True)
class Asking:
    actor: Actor
    scopes: tuple[str, ...] | None = None


def _row(subject: str, asset: str, department: str, org: str | None, rows: int,
         day: str = "2026-03-02") -> dict[str, Any]:
    return {"day": day, "subject": subject, "organisation_id": org, "asset_id": asset,
            "department_id": department, "rows": rows, "calls": 1, "bytes": rows * 10}


DAILY = [
    _row("sub-1", "bus", TRANSPORT, ORG, 5),
    _row("anon:203.0.113.7", "bus", TRANSPORT, None, 2),
    _row("anon:198.51.100.9", "bus", TRANSPORT, None, 3),
    _row("sub-2", "air", ECOLOGY, OTHER_ORG, 40),
    _row("anon:203.0.113.7", "air", ECOLOGY, None, 1),
]


@dataclass
class FakeLedger:
    asked: list[dict[str, Any]] = field(default_factory=list)

    def usage(self, subject: str, period: str) -> dict[str, Any]:
        return {"subject": subject, "period": period, "rows": 120, "calls": 7, "bytes": 2048}

    def daily_usage(self, **filters: Any) -> list[dict[str, Any]]:
        self.asked.append(filters)
        keys = ("organisation_id", "asset_id", "department_id")
        return [dict(r) for r in DAILY
                if all(filters.get(k) in (None, r[k]) for k in keys)]


class FakeEntitlements:
    def subscriptions_of(self, organisation_id: str) -> list[dict[str, Any]]:
        return [{"id": f"sub-of-{organisation_id}", "status": "active", "asset_id": "bus",
                 "plan": {"quotas": {"rows_per_month": 100}}}]

    def organisation(self, organisation_id: str) -> dict[str, Any] | None:
        members = {ORG: ["m1"], OTHER_ORG: ["m2"]}.get(organisation_id)
        return {"id": organisation_id, "members": members} if members else None


class FakeCatalogue:
    def get(self, asset_id: str) -> dict[str, Any] | None:
        return {"id": asset_id, "status": "withdrawn"} if asset_id == "bus" else None


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def usage(ledger: FakeLedger) -> UsageQueries:
    return UsageQueries(ledger, FakeEntitlements(), FakeCatalogue(),  # type: ignore[arg-type]
                        clock=lambda: datetime(2026, 3, 31, 17, tzinfo=UTC))


# ---- usage per subscription -------------------------------------------------------------------

def test_a_member_sees_their_organisations_subscriptions_with_what_is_left(
        usage: UsageQueries) -> None:
    [found] = usage.usage(Asking(MEMBER), period="2026-03")
    assert found["subscription_id"] == f"sub-of-{ORG}"
    assert (found["rows_used"], found["rows_quota"], found["rows_remaining"]) == (120, 100, 0)
    assert (found["calls_quota"], found["calls_remaining"]) == (None, None)
    assert found["reset_at"].isoformat() == "2026-04-01T00:00:00+08:00"


def test_the_period_defaults_to_the_access_paths_current_china_month(usage: UsageQueries) -> None:
    # 17:00 UTC on 31 March is 01:00 on 1 April in China.
    assert usage.usage(Asking(MEMBER))[0]["period"] == "2026-04"


def test_a_malformed_period_is_an_invalid_query(usage: UsageQueries) -> None:
    with pytest.raises(InvalidQuery) as refused:
        usage.usage(Asking(MEMBER), period="March")
    assert refused.value.field == "period"


@pytest.mark.parametrize(("caller", "organisation_id"), [
    (Asking(MEMBER), OTHER_ORG),  # a member of another organisation
    (Asking(OUTSIDER), None),  # not (or no longer) a member of their current organisation
    (Asking(PUBLISHER), ORG), (Asking(REVIEWER), ORG), (Asking(ANONYMOUS), ORG),
    (Asking(MEMBER, scopes=("usage:read",)), OTHER_ORG),  # an API key: its organisation only
])
def test_usage_out_of_scope_is_empty(usage: UsageQueries, caller: Asking,
                                     organisation_id: str | None) -> None:
    assert usage.usage(caller, period="2026-03", organisation_id=organisation_id) == []


def test_an_administrator_names_the_organisation(usage: UsageQueries) -> None:
    assert usage.usage(Asking(ADMIN), period="2026-03") == []
    assert [u["subscription_id"] for u in usage.usage(Asking(ADMIN), period="2026-03",
                                                      organisation_id=OTHER_ORG)] == [
        f"sub-of-{OTHER_ORG}"]


def test_an_api_key_needs_the_usage_read_scope(usage: UsageQueries) -> None:
    with pytest.raises(NotAllowed, match="this API key has no usage:read scope"):
        usage.usage(Asking(MEMBER, scopes=("rows:read",)), period="2026-03")
    with pytest.raises(NotAllowed):
        usage.report(Asking(ADMIN, scopes=()), DAY, DAY)
    assert usage.usage(Asking(MEMBER, scopes=("usage:read",)), period="2026-03") != []


# ---- daily rows and the client addresses in them -------------------------------------------------

def test_administrators_see_anonymous_callers_addresses(usage: UsageQueries) -> None:
    subjects = [r["subject"] for r in usage.report(Asking(ADMIN), DAY, DAY)]
    assert subjects == ["sub-1", "anon:203.0.113.7", "anon:198.51.100.9", "sub-2",
                        "anon:203.0.113.7"]


def test_a_publisher_sees_their_departments_assets_with_anonymous_callers_merged(
        usage: UsageQueries, ledger: FakeLedger) -> None:
    rows = usage.report(Asking(PUBLISHER), DAY, DAY, department_id=ECOLOGY)
    assert ledger.asked[-1]["department_id"] == TRANSPORT  # forced, whatever was asked
    assert [(r["subject"], r["rows"], r["calls"], r["bytes"]) for r in rows] == [
        ("sub-1", 5, 1, 50), ("anonymous", 5, 2, 50)]
    assert not any("anon:" in str(value) for row in rows for value in row.values())


def test_merging_leaves_the_ledgers_rows_as_they_were(usage: UsageQueries) -> None:
    usage.report(Asking(PUBLISHER), DAY, DAY)
    assert DAILY[1]["subject"] == "anon:203.0.113.7" and DAILY[1]["rows"] == 2


def test_a_member_sees_their_organisations_rows(usage: UsageQueries, ledger: FakeLedger) -> None:
    rows = usage.report(Asking(MEMBER), DAY, DAY)
    assert ledger.asked[-1]["organisation_id"] == ORG
    assert [r["subject"] for r in rows] == ["sub-1"]
    assert usage.report(Asking(MEMBER), DAY, DAY, organisation_id=OTHER_ORG) == []


@pytest.mark.parametrize("actor", [REVIEWER, ANONYMOUS, PUBLISHER_WITHOUT_DEPARTMENT])
def test_others_get_an_empty_report(usage: UsageQueries, ledger: FakeLedger,
                                    actor: Actor) -> None:
    assert usage.report(Asking(actor), DAY, DAY) == []
    assert ledger.asked == []


@pytest.mark.parametrize(("from_day", "to_day", "message"), [
    (date(2026, 3, 2), date(2026, 3, 1), "toDay is before fromDay"),
    (date(2025, 3, 1), date(2026, 3, 2), "a report covers at most 366 days"),
])
def test_a_report_covers_a_day_range_of_at_most_366_days(
        usage: UsageQueries, from_day: date, to_day: date, message: str) -> None:
    for ask in (lambda: usage.report(Asking(ADMIN), from_day, to_day),
                lambda: usage.by_asset(Asking(ADMIN), from_day, to_day),
                lambda: usage.by_department(Asking(ADMIN), from_day, to_day)):
        with pytest.raises(InvalidQuery, match=message) as refused:
            ask()
        assert refused.value.field == "toDay"
    assert usage.report(Asking(ADMIN), date(2025, 3, 2), date(2026, 3, 2)) is not None


# ---- totals -----------------------------------------------------------------------------------

def test_usage_per_asset_most_rows_first_counting_distinct_subjects(usage: UsageQueries) -> None:
    assert usage.by_asset(Asking(ADMIN), DAY, DAY) == [
        {"asset_id": "air", "department_id": ECOLOGY, "rows": 41, "calls": 2, "bytes": 410,
         "subjects": 2},
        {"asset_id": "bus", "department_id": TRANSPORT, "rows": 10, "calls": 3, "bytes": 100,
         "subjects": 3}]


def test_a_publisher_gets_usage_per_asset_of_their_department(usage: UsageQueries) -> None:
    assert [a["asset_id"] for a in usage.by_asset(Asking(PUBLISHER), DAY, DAY,
                                                  department_id=ECOLOGY)] == ["bus"]


@pytest.mark.parametrize("actor", [MEMBER, REVIEWER, ANONYMOUS, PUBLISHER_WITHOUT_DEPARTMENT])
def test_usage_per_asset_is_refused_to_others(usage: UsageQueries, actor: Actor) -> None:
    with pytest.raises(NotAllowed, match="usage per asset is for administrators and publishers"):
        usage.by_asset(Asking(actor), DAY, DAY)


def test_usage_per_department_counts_distinct_assets(usage: UsageQueries) -> None:
    assert usage.by_department(Asking(ADMIN), DAY, DAY) == [
        {"department_id": ECOLOGY, "rows": 41, "calls": 2, "bytes": 410, "assets": 1},
        {"department_id": TRANSPORT, "rows": 10, "calls": 3, "bytes": 100, "assets": 1}]


@pytest.mark.parametrize("actor", [MEMBER, PUBLISHER, REVIEWER, ANONYMOUS])
def test_usage_per_department_is_for_administrators(usage: UsageQueries, actor: Actor) -> None:
    with pytest.raises(NotAllowed, match="usage per department is for administrators"):
        usage.by_department(Asking(actor), DAY, DAY)


def test_the_asset_a_usage_answer_names_is_shown_whatever_its_status(usage: UsageQueries) -> None:
    assert usage.asset("bus") == {"id": "bus", "status": "withdrawn"}
    assert usage.asset("missing") is None
