"""The market's event store keeps the name it was written under: ``Market`` replaced the
``Marketplace`` application (issue 10), and a data bank built before must open the same SQLite
file (``events/marketplace.sqlite3``) and find what it held."""

from __future__ import annotations

from pathlib import Path

from marketplace.bootstrap import build
from marketplace.services.market.store import Market
from marketplace.settings import Settings
from support.marketplace import member_with_organisation, set_up_market


def test_the_market_store_keeps_the_marketplace_file(tmp_path: Path) -> None:
    assert Market.name == "Marketplace"
    settings = Settings(data_dir=tmp_path)
    bank = build(settings, fast_hashing=True)
    try:
        set_up_market(bank)
        member, organisation_id = member_with_organisation(bank)
    finally:
        bank.close()
    assert (tmp_path / "events" / "marketplace.sqlite3").exists()

    reopened = build(settings, fast_hashing=True)
    try:
        assert reopened.organisations.organisation_for_member(organisation_id, member) is not None
    finally:
        reopened.close()
