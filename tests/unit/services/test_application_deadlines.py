"""The configured holiday calendar reaches the deadline of an access application: settings →
bootstrap → AccessApplications → AccessApplication."""

from __future__ import annotations

import json
from datetime import datetime

from domain.calendar import CHINA
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from support.marketplace import Clock, member_with_organisation, set_up_market

MONDAY_BEFORE_NATIONAL_DAY = datetime(2026, 9, 28, 9, 0, tzinfo=CHINA)


def _deadline(settings: Settings | None = None) -> str:
    bank = build_in_memory(settings)
    try:
        bank.market.clock = Clock(MONDAY_BEFORE_NATIONAL_DAY)
        market = set_up_market(bank)
        member, org = member_with_organisation(bank)
        return bank.access_applications.submit_application(
            org, market.assets["conditional"], purpose="研究公交出行规律", scenario="高校科研",
            security_commitment="不对外提供，用后删除", by=member).deadline
    finally:
        bank.close()


def test_by_default_the_deadline_skips_national_day_and_counts_the_makeup_saturday() -> None:
    assert _deadline() == "2026-10-10"  # 29, 30 September, 8, 9, Saturday 10 October


def test_a_deployment_brings_its_own_calendar(tmp_path) -> None:
    own = tmp_path / "holidays.json"
    own.write_text(json.dumps({"holidays": [], "workdays": []}), encoding="utf-8")
    assert _deadline(Settings(holidays_file=own)) == "2026-10-05"  # weekends only
