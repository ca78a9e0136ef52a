"""Usage to Stripe: meter events per second through ``StripeGateway`` (the real ``stripe``
library over HTTP) against the project's fake Stripe, and reconciliation of 100k usage records.

1. ``send_usage`` of 3,000 charges over 100 subscriptions (one meter event each, sent
   concurrently per subscription), median of 3.
2. ``Billing.reconcile`` over 100,000 fed usage records (20 batches × 100 paid subscriptions =
   2,000 charges), the sends of half the batches lost (the process "died" before sending):
   the reconciler scans the ledger, compares with the saved deliveries and re-sends the 1,000
   missing charges; then a second pass with nothing to re-send. Median of 3 fresh setups.

Subscriptions are stood in for (each subject maps to a Stripe customer) so the bench measures
the ledger scan, the delivery records and the re-sends, not plan look-ups. Usage:

    python bench/billing_bench.py
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from domain.metering import period_of  # noqa: E402
from marketplace.billing.gateway import UsageCharge  # noqa: E402
from marketplace.billing.service import Billing  # noqa: E402
from marketplace.billing.adapters.stripe_gateway import StripeGateway, make_client  # noqa: E402
from marketplace.bootstrap import build_in_memory  # noqa: E402
from support.fake_stripe import FakeStripe, serve  # noqa: E402

RUNS = 3
SUBSCRIPTIONS = 100
EVENTS = 3_000
RECORDS = 100_000
BATCH = 5_000
NOW = datetime.now(timezone.utc)


class BenchBilling(Billing):
    """Every subject is a paid subscription of customer ``cus_<subject>``."""

    def _billed_customer(self, subject: str) -> str | None:
        return f"cus_{subject}"


def gateway_for(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(make_client("sk_test_bench", api_base=fake.url, timeout=10,
                                     max_network_retries=0))


def meter_events_per_second() -> float:
    fake = FakeStripe()
    server, _ = serve(fake)
    try:
        gateway = gateway_for(fake)
        run = time.time_ns()
        charges = [UsageCharge(identifier=f"usage-{run}-{i}", subscription_id=f"sub-{i % SUBSCRIPTIONS}",
                               customer_id=f"cus_{i % SUBSCRIPTIONS}", period=period_of(NOW),
                               rows=10 + i % 7, at=NOW) for i in range(EVENTS)]
        started = time.perf_counter()
        report = gateway.send_usage(charges)
        elapsed = time.perf_counter() - started
        assert len(report.acknowledged) == EVENTS and len(fake.meter_events) == EVENTS, report.failed
        return EVENTS / elapsed
    finally:
        server.shutdown()
        server.server_close()


def fill_ledger(ledger) -> None:
    period, day = period_of(NOW), NOW.date().isoformat()
    with ledger._transaction() as conn:
        conn.executemany(
            "INSERT INTO metering_records (subject, period, rows, calls, bytes, at, day, written, "
            "settled) VALUES (?, ?, ?, 1, 0, ?, ?, ?, 1)",
            [(f"sub-{i % SUBSCRIPTIONS}", period, 1 + i % 50, NOW.isoformat(), day, time.time())
             for i in range(RECORDS)])


def reconcile_once() -> tuple[float, float, int]:
    fake = FakeStripe()
    server, _ = serve(fake)
    bank = build_in_memory()
    try:
        billing = BenchBilling(subscriptions=bank.subscriptions, organisations=bank.organisations,
                               metering=bank.metering, gateway=gateway_for(fake),
                               records=bank.billing.records)
        fill_ledger(bank.ledger)
        for n in range(RECORDS // BATCH):  # half the batches' sends are lost
            bank.metering.on_fed[:] = [billing.send_usage] if n % 2 == 0 else []
            assert bank.metering.feed(BATCH, grace_seconds=0) == BATCH
        started = time.perf_counter()
        report = billing.reconcile()
        first = time.perf_counter() - started
        assert report.charges == 2_000 and len(report.resent) == 1_000 and not report.failed, report.lines()
        started = time.perf_counter()
        again = billing.reconcile()
        second = time.perf_counter() - started
        assert again.acknowledged == 2_000 and again.resent == []
        assert len(fake.meter_events) == 2_000
        return first, second, report.rows
    finally:
        bank.close()
        server.shutdown()
        server.server_close()


def main() -> None:
    rates = [meter_events_per_second() for _ in range(RUNS)]
    print(f"meter events through StripeGateway → fake Stripe: {statistics.median(rates):,.0f}/s "
          f"(median of {RUNS}: {', '.join(f'{r:,.0f}' for r in rates)}; target ≥ 1,000/s)")
    runs = [reconcile_once() for _ in range(RUNS)]
    firsts, seconds = [r[0] for r in runs], [r[1] for r in runs]
    print(f"reconcile {RECORDS:,} usage records (2,000 charges, 1,000 re-sent): "
          f"{statistics.median(firsts):.2f} s (median of {RUNS}: "
          f"{', '.join(f'{t:.2f}' for t in firsts)}; target ≤ 10 s)")
    print(f"reconcile again, nothing missing: {statistics.median(seconds):.2f} s")


if __name__ == "__main__":
    main()
