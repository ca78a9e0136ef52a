"""Upgrading a store written when billing's records lived in the Marketplace's event store: the
build copies them into billing's own store once, and billing finds them there."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from support.billing import (
    PaidSubscription,
    for_subscription,
    paid_subscription,
    stripe_event,
)

from domain.billing import (
    BillingAccount,
    BillingEventReceipt,
    InvoiceWatermark,
    ProviderEventWatermark,
    UsageDelivery,
)
from marketplace.bootstrap import build
from marketplace.settings import Settings

AT = 2_000_000_000
#: what ``written_the_old_way`` saves: one account, one receipt, a watermark started and advanced,
#: one usage delivery, a legacy invoice watermark
OLD_EVENTS = 6


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path)
    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("postgres_schema")
    return Settings(data_dir=tmp_path, database_url=f"{url}?schema={schema}")


def written_the_old_way(settings: Settings) -> PaidSubscription:
    """A bank whose billing records were saved in the Marketplace's event store, as before."""
    bank = build(settings, fast_hashing=True)
    try:
        paid = paid_subscription(bank)
        sub = paid.subscription_id
        watermark = ProviderEventWatermark.start(subscription_id=sub, at=AT, event_id="evt_old")
        watermark.advance(AT + 100, "evt_newer")
        bank.market.save(
            BillingAccount.open(organisation_id=paid.organisation_id, customer_id="cus_old"),
            BillingEventReceipt.handle(event_id="evt_old", event_type="invoice.paid",
                                       subscription_id=sub, outcome="activated"),
            watermark,
            UsageDelivery.record(identifier="usage-1-2", batch_number=1, subscription_id=sub,
                                 customer_id="cus_old", period="2033-05", rows=10, at=float(AT),
                                 outcome="failed", reason="timeout"),
            InvoiceWatermark(subscription_id="legacy-subscription", at=AT - 500,
                             event_id="evt_legacy"))
        assert bank.billing is not None and bank.billing.records.account(paid.organisation_id) is None
    finally:
        bank.close()
    return paid


def test_billing_records_of_the_marketplaces_store_are_found_after_the_upgrade(settings) -> None:
    paid = written_the_old_way(settings)
    sub = paid.subscription_id
    bank = build(settings, fast_hashing=True)
    try:
        assert bank.billing is not None
        records = bank.billing.records
        assert records.copied_from_marketplace == OLD_EVENTS
        assert records.account(paid.organisation_id).customer_id == "cus_old"
        assert records.receipt("evt_old").outcome == "activated"
        watermark = records.watermark(sub)
        assert (watermark.at, watermark.event_id, watermark.version) == (AT + 100, "evt_newer", 2)
        assert records.delivery("usage-1-2").outcome == "failed"
        assert records.watermark("legacy-subscription").at == AT - 500
        # billing acts on them: a redelivered event is a duplicate, an older one is ignored
        again = bank.billing.handle_event(stripe_event(
            "evt_old", "invoice.paid", for_subscription(sub, "invoice."), created=AT))
        assert again.duplicate
        older = bank.billing.handle_event(stripe_event(
            "evt_older", "invoice.paid", for_subscription(sub, "invoice."), created=AT + 50))
        assert older.outcome.startswith("ignored: older than the last provider event applied")
        assert bank.billing.status(sub, by=paid.member)["customer_id"] == "cus_old"
        last = records.recorder.max_notification_id()
    finally:
        bank.close()

    rebuilt = build(settings, fast_hashing=True)
    try:
        assert rebuilt.billing is not None
        records = rebuilt.billing.records
        assert records.copied_from_marketplace == 0
        assert records.recorder.max_notification_id() == last
        assert records.watermark(sub).version == 2
        assert records.account(paid.organisation_id).customer_id == "cus_old"
    finally:
        rebuilt.close()


def test_databank_migrate_reports_the_copy(tmp_path: Path, monkeypatch) -> None:
    from marketplace.cli import main

    written_the_old_way(Settings(data_dir=tmp_path))
    monkeypatch.setenv("DATABANK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABANK_STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("DATABANK_DATABASE_URL", raising=False)
    first = CliRunner().invoke(main, ["migrate"])
    assert first.exit_code == 0, first.output
    assert f"copied {OLD_EVENTS} billing events" in first.output
    assert (tmp_path / "events" / "billing.sqlite3").is_file()
    second = CliRunner().invoke(main, ["migrate"])
    assert second.exit_code == 0, second.output
    assert "copied" not in second.output and "tables are in place" in second.output
