"""Access applications stored before ``domain.application`` became ``domain.access_application``
still load and still escalate: their events carry the old module in their topic."""

from __future__ import annotations

import importlib.util
import sqlite3
from datetime import timedelta
from pathlib import Path

from marketplace.bootstrap import DataBank, build
from marketplace.services.market.access_applications import SUBMITTED_TOPICS
from marketplace.settings import Settings
from support.marketplace import Clock, member_with_organisation, set_up_market

OLD = "domain.application:"
NEW = "domain.access_application:"


def _bank(data_dir: Path, clock: Clock) -> DataBank:
    bank = build(Settings(data_dir=data_dir), fast_hashing=True)
    bank.market.clock = clock
    return bank


def _store_under_the_old_topic(data_dir: Path) -> int:
    """Rewrite the stored events' topics as the code before the move wrote them."""
    with sqlite3.connect(data_dir / "events" / "marketplace.sqlite3") as db:
        changed = db.execute("UPDATE stored_events SET topic = ? || substr(topic, ?) "
                             "WHERE topic LIKE ?", (OLD, len(NEW) + 1, NEW + "%")).rowcount
    db.close()
    return changed


def test_an_application_stored_under_the_old_module_topic_loads_and_escalates(tmp_path: Path) -> None:
    assert importlib.util.find_spec("domain.application") is None  # only the registration helps
    clock = Clock()
    bank = _bank(tmp_path, clock)
    try:
        market = set_up_market(bank)
        member, org = member_with_organisation(bank)
        application = bank.access_applications.submit_application(
            org, market.assets["conditional"], purpose="交通规划研究", scenario="线路优化",
            security_commitment="不对外提供", by=member)
        application_id = str(application.id)
    finally:
        bank.close()
    assert _store_under_the_old_topic(tmp_path) == 1  # the Submitted event

    bank = _bank(tmp_path, clock)
    try:
        loaded = bank.access_applications.get_application(application_id)
        assert loaded is not None
        assert (str(loaded.id), loaded.organisation_id, loaded.status) == (
            application_id, org, "submitted")
        assert OLD + "AccessApplication.Submitted" in SUBMITTED_TOPICS
        clock.now += timedelta(days=8)  # past five working days
        assert bank.access_applications.escalate_overdue() == [application_id]
        assert bank.access_applications.get_application(application_id).status == "escalated"
        bank.entitlements_follower.rebuild()  # the read model replays old and new topics alike
        doc = bank.entitlements_view.access_application(application_id)
        assert doc is not None and (doc["status"], doc["escalated"]) == ("escalated", True)
    finally:
        bank.close()


def test_new_events_are_stored_under_the_new_module_topic(tmp_path: Path) -> None:
    bank = _bank(tmp_path, Clock())
    try:
        market = set_up_market(bank)
        member, org = member_with_organisation(bank)
        bank.access_applications.submit_application(
            org, market.assets["conditional"], purpose="研究", scenario="科研",
            security_commitment="不外传", by=member)
    finally:
        bank.close()
    with sqlite3.connect(tmp_path / "events" / "marketplace.sqlite3") as db:
        topics = [t for (t,) in db.execute("SELECT topic FROM stored_events "
                                           "WHERE topic LIKE '%AccessApplication%'")]
    db.close()
    assert topics == [NEW + "AccessApplication.Submitted"]
