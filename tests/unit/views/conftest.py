"""A market's log in miniature for the views' tests: Marketplace-shaped events applied to a real
entitlements read model (SQLite, in memory), so each view's rules are checked against the
documents the handlers really write. Events are recorded into the log; the read model sees them
only when caught up (as the follower does), which is what the fresh reads are for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from marketplace.projections.sqlite_entitlements import SQLiteEntitlementsView

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _event(aggregate: str, name: str, originator_id: str, version: int, at: datetime,
           fields: dict[str, Any]) -> object:
    """An object shaped like the aggregate's event ``name`` (the read model reads the class's
    qualified name, the originator and the timestamp, and the event's own fields)."""
    cls = type(name, (), {"__qualname__": f"{aggregate}.{name}"})
    event = cls()
    event.__dict__.update(originator_id=originator_id, originator_version=version, timestamp=at,
                          **fields)
    return event


@dataclass
class MarketLog:
    """The log and the read model it feeds."""

    view: SQLiteEntitlementsView
    pending: list[tuple[int, object]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    position: int = 0
    catch_ups: int = 0

    def record(self, aggregate: str, name: str, originator_id: str, /, **fields: Any) -> None:
        """Record one event; the read model does not see it until ``catch_up``. (Positional
        only: events have fields called ``name``.)"""
        version = self.versions.get(originator_id, 0) + 1
        self.versions[originator_id] = version
        self.position += 1
        at = START + timedelta(minutes=self.position)
        self.pending.append((self.position, _event(aggregate, name, originator_id, version, at,
                                                   fields)))

    def catch_up(self) -> int:
        """Apply everything recorded (the follower's ``catch_up``)."""
        self.catch_ups += 1
        applied, self.pending = self.pending, []
        self.view.process(applied)
        return len(applied)

    # ---- the market's facts, as events ------------------------------------------------------

    def organisation(self, org_id: str, owner: str, owner_name: str,
                     credit_code: str = "91341500MA2N000001") -> None:
        self.record("Organisation", "Registered", org_id, credit_code=credit_code,
                    name=f"{org_id} 科技有限公司", kind="startup",
                    by={"id": owner, "name": owner_name, "role": "member"})

    def member_added(self, org_id: str, user_id: str, name: str) -> None:
        self.record("Organisation", "MemberAdded", org_id, user_id=user_id, name=name,
                    role="member")

    def application(self, application_id: str, org_id: str, asset_id: str,
                    department_id: str) -> None:
        self.record("AccessApplication", "Submitted", application_id, organisation_id=org_id,
                    asset_id=asset_id, asset_department_id=department_id, purpose="交通研究",
                    scenario="拥堵分析", security_commitment="不外传",
                    submitted_at=START + timedelta(minutes=self.position + 1),
                    by={"id": "m1", "name": "李明"}, deadline="2026-03-20")

    def plan(self, plan_id: str, asset_id: str, name: str, template_id: str = "tpl-1") -> None:
        self.record("Plan", "Defined", plan_id, asset_id=asset_id, name=name,
                    licence_template_id=template_id,
                    price={"monthly_fee_fen": 0, "per_1k_rows_fen": 0, "per_call_fen": 0},
                    quotas={"rows_per_month": 1000, "calls_per_month": None,
                            "rate_limit_per_minute": 60},
                    overage="refuse", field_tier="masked", item_overrides={})

    def subscription(self, subscription_id: str, org_id: str, plan_id: str,
                     asset_id: str) -> None:
        snapshot = {"plan_id": plan_id, "asset_id": asset_id, "name": "免费版",
                    "licence_template_id": "tpl-1",
                    "price": {"monthly_fee_fen": 0, "per_1k_rows_fen": 0, "per_call_fen": 0},
                    "quotas": {"rows_per_month": 1000, "calls_per_month": None,
                               "rate_limit_per_minute": 60},
                    "overage": "refuse", "field_tier": "masked", "item_overrides": {},
                    "retired": False}
        self.record("Subscription", "Started", subscription_id, organisation_id=org_id,
                    plan_id=plan_id, plan=snapshot, terms_version=1, application_id=None,
                    status="active")


@pytest.fixture
def market() -> Iterator[MarketLog]:
    yield MarketLog(SQLiteEntitlementsView(":memory:"))
