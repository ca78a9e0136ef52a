"""The one composition root: reads settings, builds the applications and their adapters.

Nothing else constructs infrastructure; everything else receives what it needs from here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from marketplace.billing.records import BillingRecords
from marketplace.billing.records_move import copy_billing_events
from marketplace.billing.service import Billing
from marketplace.datastore import Datastore, PostgresDatastore, SQLiteDatastore
from marketplace.datastore.limits import ImportLimits
from marketplace.datastore.cursors import CursorSealer, load_or_create_cursor_key
from marketplace.identity import KeyRing, PasswordHasher, StatementSigner, TokenService
from marketplace.identity.throttle import LoginThrottle
from marketplace.metering import QuotaLedger, SQLiteQuotaLedger
from marketplace.metering.unmetered import UnmeteredLedger
from marketplace.projections.catalogue_view import CatalogueView
from marketplace.projections.entitlements import EntitlementsView
from marketplace.projections.follower import Follower
from marketplace.projections.sqlite_catalogue import SQLiteCatalogueView
from marketplace.projections.sqlite_entitlements import SQLiteEntitlementsView
from marketplace.services.access import AnonymousAllowance, RowAccess
from marketplace.services.key_use import KeyUseRecorder
from marketplace.services.catalogue import Catalogue
from marketplace.services.exports import EXPORT_AUDIENCE, Exports
from marketplace.services.jobs import PeriodicJob
from marketplace.services.market.access_applications import AccessApplications
from marketplace.services.market.api_keys import ApiKeys
from marketplace.services.market.licensing import Licensing
from marketplace.services.market.members import Members
from marketplace.services.market.organisations import Organisations
from marketplace.services.market.store import Market
from marketplace.services.market.subscriptions import Subscriptions
from marketplace.services.metering import Metering
from marketplace.services.persistence import EventStoreConfig, PostgresParams
from marketplace.services.staff import StaffDirectory
from marketplace.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class DataBank:
    """Everything a running data bank holds, built once per process."""

    settings: Settings
    catalogue: Catalogue
    staff: StaffDirectory
    datastore: Datastore
    catalogue_view: CatalogueView
    catalogue_follower: Follower
    #: the market and licensing area's event store (the entitlements read model follows it) and
    #: its capability services, each holding it
    market: Market
    members: Members
    licensing: Licensing
    organisations: Organisations
    subscriptions: Subscriptions
    access_applications: AccessApplications
    api_keys: ApiKeys
    entitlements_view: EntitlementsView
    entitlements_follower: Follower
    ledger: QuotaLedger
    metering: Metering
    row_access: RowAccess
    keyring: KeyRing
    tokens: TokenService
    closers: list = field(default_factory=list)
    escalation: PeriodicJob | None = None
    exports: Exports | None = None
    billing: Billing | None = None
    #: failed logins per account and client address, in this process (see identity/throttle.py)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)

    def __post_init__(self) -> None:
        if self.escalation is None:
            self.escalation = PeriodicJob("escalate-overdue-applications",
                                          self.settings.escalation_interval_seconds,
                                          self.escalate_overdue)

    def start(self) -> None:
        """Catch the read models up, then keep following the log in the background; feed the
        meters; escalate overdue access applications every ``escalation_interval_seconds``."""
        self.catalogue_follower.catch_up()
        self.catalogue_follower.start()
        self.entitlements_follower.catch_up()
        self.entitlements_follower.start()
        self.metering.start()
        self.escalation.start()

    def escalate_overdue(self) -> list[str]:
        """Escalate the applications unanswered past their deadline (by the market's
        clock), then bring the entitlements read model up to date so lists show it at once.
        Several workers may run it together: an application escalates once (the aggregate
        decides; conflicting saves retry)."""
        escalated = self.access_applications.escalate_overdue()
        if escalated:
            self.entitlements_follower.catch_up()
        return escalated

    def close(self) -> None:
        self.escalation.stop()
        self.catalogue_follower.stop()
        self.entitlements_follower.stop()
        self.metering.stop()
        self.row_access.close()  # hands over the queued API-key touches before the store closes
        for close in reversed(self.closers):
            close()
        self.catalogue.close()
        self.staff.close()
        self.market.close()
        if self.billing is not None:
            self.billing.records.close()
        self.metering.close()
        self.ledger.close()


def build(settings: Settings, *, create_tables: bool = True, fast_hashing: bool = False) -> DataBank:
    """Build the data bank for ``settings``: SQLite files by default, PostgreSQL when
    ``settings.database_url`` is set.

    :param create_tables: False in API workers of a PostgreSQL deployment (``databank migrate``
        creates the tables once; concurrent DDL from many workers races)
    :param fast_hashing: cheap password hashing, for tests only
    """
    closers: list = []
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if settings.database_url:
        from marketplace.projections.postgres_catalogue import PostgresCatalogueView
        from marketplace.projections.postgres_entitlements import PostgresEntitlementsView

        pg = PostgresParams.from_url(settings.database_url)
        store_config = EventStoreConfig(kind="postgres", postgres=pg, create_tables=create_tables)
        datastore: Datastore = PostgresDatastore(pg.conninfo, schema=pg.schema,
                                                 import_limits=_import_limits(settings))
        pg_view = PostgresCatalogueView(pg.conninfo, pg.schema, create_tables=create_tables)
        closers.append(pg_view.close)
        view: CatalogueView = pg_view
        pg_entitlements = PostgresEntitlementsView(pg.conninfo, pg.schema, create_tables=create_tables)
        closers.append(pg_entitlements.close)
        entitlements: EntitlementsView = pg_entitlements
        from marketplace.metering import PostgresQuotaLedger

        ledger: QuotaLedger = PostgresQuotaLedger(pg.conninfo, pg.schema, create_tables=create_tables)
    else:
        store_config = EventStoreConfig(kind="sqlite", directory=data_dir / "events",
                                        create_tables=create_tables)
        datastore = SQLiteDatastore(data_dir / "datastore.sqlite3", import_limits=_import_limits(settings))
        view = SQLiteCatalogueView(data_dir / "read-models" / "catalogue.sqlite3")
        entitlements = SQLiteEntitlementsView(data_dir / "read-models" / "entitlements.sqlite3")
        # One process serves SQLite, and its requests reach the ledger one after another:
        # committing in the caller's thread beats handing off to a group committer, and WAL with
        # synchronous=NORMAL keeps every commit through a process crash (kill -9), though not
        # through a power cut (docs/decisions.md).
        ledger = SQLiteQuotaLedger(data_dir / "ledger.sqlite3", group_commit=False,
                                   synchronous="NORMAL")
    if hasattr(datastore, "close"):
        closers.append(datastore.close)
    return _assemble(settings, store_config, datastore, view, entitlements, ledger,
                     KeyRing.load_or_create(data_dir), fast_hashing, closers,
                     CursorSealer(load_or_create_cursor_key(data_dir)))


def build_in_memory(settings: Settings | None = None) -> DataBank:
    """A complete data bank in memory (unit and BDD tests): POPO events, SQLite in memory."""
    settings = settings or Settings()
    return _assemble(settings, EventStoreConfig(kind="memory"),
                     SQLiteDatastore(":memory:", import_limits=_import_limits(settings)),
                     SQLiteCatalogueView(":memory:"), SQLiteEntitlementsView(":memory:"),
                     SQLiteQuotaLedger(":memory:"), KeyRing.ephemeral(), True, [],
                     CursorSealer.ephemeral())


def _import_limits(settings: Settings) -> ImportLimits:
    return ImportLimits(max_rows=settings.max_import_rows)


def _assemble(settings: Settings, store_config: EventStoreConfig, datastore: Datastore,
              view: CatalogueView, entitlements: EntitlementsView, ledger: QuotaLedger,
              keyring: KeyRing, fast_hashing: bool, closers: list,
              cursors: CursorSealer) -> DataBank:
    catalogue = Catalogue(store_config.env_for(Catalogue.name), datastore=datastore)
    hasher = PasswordHasher(fast=fast_hashing)
    staff = StaffDirectory(store_config.env_for(StaffDirectory.name), hasher=hasher)
    market = Market(store_config.env_for(Market.name), catalogue=catalogue)
    members = Members(market, hasher=hasher)
    licensing = Licensing(market)
    organisations = Organisations(market, members=members)
    subscriptions = Subscriptions(market)
    access_applications = AccessApplications(market, review_days=settings.application_review_days,
                                             calendar=settings.holiday_calendar())
    api_keys = ApiKeys(market)
    tokens = TokenService(keyring, issuer=settings.public_url,
                          ttl=timedelta(minutes=settings.token_ttl_minutes))
    follower = Follower(catalogue, view, poll_seconds=settings.projection_poll_seconds)
    entitlements_follower = Follower(market, entitlements,
                                     poll_seconds=settings.projection_poll_seconds)
    metering = Metering(store_config.env_for(Metering.name), ledger=ledger)
    if settings.unsafe_unmetered:
        log.warning("DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS: rows are served with no quota "
                    "and no metering; this setting exists only to measure what metering costs")
    row_access = RowAccess(
        catalogue_view=view, entitlements_view=entitlements, datastore=datastore,
        ledger=UnmeteredLedger() if settings.unsafe_unmetered else ledger,
        catalogue_follower=follower, entitlements_follower=entitlements_follower,
        anonymous=AnonymousAllowance(rows_per_month=settings.anonymous_rows_per_month,
                                     calls_per_minute=settings.anonymous_calls_per_minute),
        key_use=KeyUseRecorder(api_keys.touch_api_key), cursors=cursors,
        scan_budget_rows=settings.scan_budget_rows)
    # Export links are judged by the access path's clock (settable in tests), like API keys.
    exports = Exports(row_access, StatementSigner(keyring, audience=EXPORT_AUDIENCE,
                                                  issuer=settings.public_url,
                                                  clock=lambda: row_access.clock()))
    billing = build_billing(settings, store_config, market, subscriptions, organisations,
                            metering, entitlements, entitlements_follower)
    if billing.sends_usage:  # each fed usage batch goes to Stripe (the offline ledger bills locally)
        metering.on_fed.append(billing.send_usage)
    return DataBank(settings=settings, catalogue=catalogue, staff=staff, datastore=datastore,
                    catalogue_view=view, catalogue_follower=follower, market=market,
                    members=members, licensing=licensing, organisations=organisations,
                    subscriptions=subscriptions, access_applications=access_applications,
                    api_keys=api_keys,
                    entitlements_view=entitlements, entitlements_follower=entitlements_follower,
                    ledger=ledger, metering=metering, row_access=row_access,
                    keyring=keyring, tokens=tokens, closers=closers, exports=exports,
                    billing=billing)


def build_billing(settings: Settings, store_config: EventStoreConfig, market: Market,
                  subscriptions: Subscriptions, organisations: Organisations, metering: Metering,
                  entitlements: EntitlementsView, entitlements_follower: Follower) -> Billing:
    """Stripe when ``DATABANK_STRIPE_API_KEY`` is set, the offline ledger (nothing charged)
    otherwise. Billing's records live in its own event store; where tables are created, the
    billing events an older version saved in the market's store are copied there first
    (once: see billing/records_move.py)."""
    records = BillingRecords(store_config.env_for(BillingRecords.name))
    if store_config.create_tables:
        copied = copy_billing_events(market.recorder, records.recorder)
        records.copied_from_marketplace = copied
        if copied:
            log.info("copied %d billing events from the marketplace's event store", copied)
    from marketplace.billing import OfflineLedger

    gateway: object
    if settings.stripe_api_key:
        from marketplace.billing.adapters.stripe_gateway import StripeGateway, make_client

        gateway = StripeGateway(make_client(settings.stripe_api_key, api_base=settings.stripe_api_base))
    else:
        gateway = OfflineLedger()
    def subscriptions_of(organisation_id: str) -> list[str]:
        entitlements_follower.catch_up()  # a subscription just started is listed at once
        return [d["id"] for d in entitlements.subscriptions_of(organisation_id)]

    return Billing(subscriptions=subscriptions, organisations=organisations, metering=metering,
                   gateway=gateway,  # type: ignore[arg-type]
                   grace=timedelta(hours=settings.payment_grace_hours),
                   public_url=settings.public_url,
                   subscriptions_of=subscriptions_of, records=records)
