"""Metered usage reaches the provider durably: each fed batch's charges are sent once, their
outcome is saved as a UsageDelivery, and the reconciler re-sends what failed or never went out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from domain.billing import UsageDelivery
from domain.metering import period_of
from marketplace.billing import OfflineLedger
from marketplace.billing.service import Billing
from marketplace.bootstrap import build_in_memory
from support.billing import for_subscription, paid_subscription, stripe_event
from support.fake_billing import FakeBillingGateway

NOW = datetime.now(timezone.utc)
PERIOD = period_of(NOW)


@pytest.fixture
def bank():
    bank = build_in_memory()
    yield bank
    bank.close()


def checked_out(bank, gateway) -> tuple[Billing, str]:
    """A paid subscription checked out through ``gateway``, its billing listening to the feed."""
    paid = paid_subscription(bank)
    billing = Billing(subscriptions=bank.subscriptions, organisations=bank.organisations,
                      metering=bank.metering, gateway=gateway,
                      grace=timedelta(days=3), records=bank.billing.records)
    billing.start_checkout(paid.subscription_id, by=paid.member)
    bank.metering.on_fed.append(billing.send_usage)
    return billing, paid.subscription_id


def serve_rows(bank, subject: str, *rows: int) -> None:
    for n in rows:
        bank.ledger.reserve(subject, PERIOD, rows_wanted=n, rows_quota=None, calls_quota=None,
                            rate_limit_per_minute=None, now=NOW, final=True)


def delivery(bank, identifier: str) -> UsageDelivery | None:
    return bank.billing.records.delivery(identifier)


def sends(gateway: FakeBillingGateway) -> list[list[str]]:
    return [ids for name, ids in gateway.calls if name == "send_usage"]


def test_a_fed_batch_goes_to_the_provider_and_its_acknowledgement_is_saved(bank) -> None:
    gateway = FakeBillingGateway()
    _, sub = checked_out(bank, gateway)
    serve_rows(bank, sub, 100, 250)
    assert bank.metering.feed(grace_seconds=0) == 2
    assert sends(gateway) == [["usage-1-2"]] and gateway.usage["usage-1-2"].rows == 350
    saved = delivery(bank, "usage-1-2")
    assert (saved.outcome, saved.rows, saved.subscription_id, saved.attempts) == ("acknowledged", 350, sub, 1)


def test_sending_the_same_batch_again_sends_nothing_more(bank) -> None:
    gateway = FakeBillingGateway()
    billing, sub = checked_out(bank, gateway)
    serve_rows(bank, sub, 10)
    bank.metering.feed(grace_seconds=0)
    [batch] = list(bank.ledger.fed_batches())
    again = billing.send_usage(batch)
    assert again.acknowledged == ["usage-1-1"] and sends(gateway) == [["usage-1-1"]]


def test_a_failed_send_is_kept_and_the_reconciler_sends_it_again_once(bank) -> None:
    gateway = FakeBillingGateway(fail=["usage-1-1"])
    billing, sub = checked_out(bank, gateway)
    serve_rows(bank, sub, 40)
    bank.metering.feed(grace_seconds=0)
    assert delivery(bank, "usage-1-1").outcome == "failed" and "usage-1-1" not in gateway.usage
    gateway.failing.clear()
    report = billing.reconcile()
    assert (report.charges, report.sent, report.acknowledged, report.resent) == (1, 1, 0, ["usage-1-1"])
    assert delivery(bank, "usage-1-1").outcome == "acknowledged"
    assert delivery(bank, "usage-1-1").attempts == 2
    assert billing.reconcile().resent == [] and sends(gateway) == [["usage-1-1"], ["usage-1-1"]]


def test_usage_that_never_went_out_is_found_in_the_ledger_by_the_reconciler(bank) -> None:
    gateway = FakeBillingGateway()
    billing, sub = checked_out(bank, gateway)
    bank.metering.on_fed.clear()  # the process died between feeding and sending
    serve_rows(bank, sub, 5, 6)
    bank.metering.feed(grace_seconds=0)
    assert sends(gateway) == []
    report = billing.reconcile()
    assert (report.missing, report.resent, report.rows) == (1, ["usage-1-2"], 11)
    assert gateway.usage["usage-1-2"].rows == 11


def test_a_listener_that_crashes_does_not_stop_the_feed(bank) -> None:
    def broken(batch) -> None:
        raise RuntimeError("the provider's library blew up")

    bank.metering.on_fed.append(broken)
    serve_rows(bank, "some-subscription", 3)
    assert bank.metering.feed(grace_seconds=0) == 1
    assert bank.ledger.pending_feed_batch() is None


def test_a_rejected_charge_is_kept_reported_and_not_sent_again(bank) -> None:
    gateway = FakeBillingGateway(reject=["usage-1-1"])
    billing, sub = checked_out(bank, gateway)
    serve_rows(bank, sub, 9)
    bank.metering.feed(grace_seconds=0)
    assert delivery(bank, "usage-1-1").outcome == "rejected"
    report = billing.reconcile()
    assert report.rejected == {"usage-1-1": "rejected by the fake"} and report.resent == []
    assert sends(gateway) == [["usage-1-1"]]
    assert "  rejected usage-1-1: rejected by the fake" in report.lines()


def test_the_offline_ledger_sends_nothing_and_has_nothing_to_reconcile(bank) -> None:
    billing, sub = checked_out(bank, OfflineLedger())
    serve_rows(bank, sub, 9)
    bank.metering.feed(grace_seconds=0)
    assert delivery(bank, "usage-1-1") is None
    assert billing.reconcile().lines() == [
        "offline ledger: nothing is sent, usage is invoiced locally from the ledger"]


def test_the_reconcile_command_prints_the_report(tmp_path, monkeypatch) -> None:
    from marketplace.cli import main

    monkeypatch.setenv("DATABANK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABANK_STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("DATABANK_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["billing", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "offline ledger: nothing is sent" in result.output


def test_an_older_invoice_paid_after_a_newer_payment_failure_does_not_reinstate(bank) -> None:
    billing, sub = checked_out(bank, FakeBillingGateway())
    due = 1_790_000_000
    billing.handle_event(stripe_event("evt_1", "checkout.session.completed",
                                      for_subscription(sub, "checkout.session.completed"),
                                      created=due - 86400))  # paid before the invoice fell due
    failed = billing.handle_event(stripe_event("evt_f", "invoice.payment_failed",
                                               for_subscription(sub, "invoice.", due_date=due),
                                               created=due + 4 * 86400))
    stale = billing.handle_event(stripe_event("evt_p", "invoice.paid", for_subscription(sub, "invoice."),
                                              created=due + 3600))
    assert failed.outcome == "suspended"
    assert stale.outcome == "ignored: older than the last provider event applied (evt_f)"
    assert bank.subscriptions.get_subscription(sub).status == "suspended"
    paid = billing.handle_event(stripe_event("evt_q", "invoice.paid", for_subscription(sub, "invoice."),
                                             created=due + 5 * 86400))
    assert paid.outcome == "reinstated" and bank.subscriptions.get_subscription(sub).status == "active"
