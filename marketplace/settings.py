"""Settings, read once from the environment by the composition root (bootstrap)."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from domain.calendar import HolidayCalendar

# The State Council's official holidays and 调休 make-up workdays, shipped with the code; a
# deployment points DATABANK_HOLIDAYS_FILE at its own copy to add a year before we release one.
OFFICIAL_HOLIDAYS = Path(__file__).parent / "holidays" / "china.json"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the embedded defaults a newcomer needs.

    :param data_dir: where SQLite files, signing keys and uploads live (``DATABANK_DATA_DIR``)
    :param database_url: ``postgresql://user@host:port/db[?schema=name]`` moves the event store,
        the datastore and the read models to PostgreSQL (``DATABANK_DATABASE_URL``)
    :param environment: ``development`` (GraphiQL, introspection) or ``production``
    :param max_upload_bytes: the largest version upload accepted (``DATABANK_MAX_UPLOAD_MB``)
    :param max_import_rows: the most data rows one upload may have (``DATABANK_MAX_IMPORT_ROWS``;
        the other import limits are ``marketplace.datastore.limits.ImportLimits``'s)
    :param max_body_bytes: the largest JSON request body, GraphQL or webhook
        (``DATABANK_MAX_BODY_MB``, default 1)
    :param trusted_proxies: addresses or networks of the reverse proxies whose
        ``X-Forwarded-For``/``X-Forwarded-Proto`` are believed (``DATABANK_TRUSTED_PROXIES``,
        comma-separated; default none: the client address is the connection's peer)
    :param token_ttl_minutes: lifetime of staff JWTs
    :param anonymous_rows_per_month: rows of open data an anonymous IP may read a month
        (``DATABANK_ANONYMOUS_ROWS``); ``anonymous_calls_per_minute`` its rate limit
    :param unsafe_unmetered: serve rows with no quota and no metering — only to measure what
        metering costs (``DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS=1``); never in service
    :param public_url: the address printed for people and put in tokens' issuer
    :param application_review_days: working days a department has to answer a conditional
        access application before it is escalated (``DATABANK_APPLICATION_REVIEW_DAYS``)
    :param escalation_interval_seconds: how often the server escalates overdue applications
        (``DATABANK_ESCALATION_INTERVAL_SECONDS``; 0 turns the job off)
    :param holidays_file: the JSON ``{"holidays": [ISO dates], "workdays": [ISO dates]}`` that
        working-day deadlines skip and count (``DATABANK_HOLIDAYS_FILE``; default the shipped
        official calendar, ``OFFICIAL_HOLIDAYS``)
    :param stripe_api_key: bill through Stripe (``DATABANK_STRIPE_API_KEY``); without it the
        offline ledger computes invoices locally and charges nothing
    :param stripe_webhook_secret: verifies ``POST /webhooks/stripe`` (``DATABANK_STRIPE_WEBHOOK_SECRET``)
    :param stripe_api_base: another Stripe address, for the api and the meter events (tests'
        fake server; ``DATABANK_STRIPE_API_BASE``)
    :param payment_grace_hours: how long after an invoice fell due a failed payment suspends the
        subscription (``DATABANK_PAYMENT_GRACE_HOURS``)
    :param scan_budget_rows: the largest table a query may scan, when no index serves its filter
        or order (``DATABANK_SCAN_BUDGET_ROWS``; ``none`` lifts the budget). Over it, the answer
        is BAD_USER_INPUT naming the indexed columns. 200,000 rows is about 30-60 ms of one core
        here (the issue measured 15 ms for 100k rows on SQLite): a scan stays a request's own
        short cost while the 100k-row registry the benchmarks compare still scans
    :param log_format: ``json`` (one object per line) or ``text`` (``DATABANK_LOG_FORMAT``;
        default json in production, text in development)
    :param metrics_allow: addresses or networks that may read ``/metrics``
        (``DATABANK_METRICS_ALLOW``, comma-separated; default loopback; ``none`` closes it)
    :param ready_max_lag: events a read model may lag behind its log while ``/readyz`` still
        answers 200 (``DATABANK_READY_MAX_LAG``)
    :param request_threads: worker threads that run requests' database work (GraphQL operations,
        export blocks) at most at once, per process (``DATABANK_REQUEST_THREADS``; default one
        per core: more threads hand the GIL back and forth and each request gets slower — 8
        threads served 40% fewer filtered pages than 2 — while pages in row order run on the
        event loop and never wait behind a scan: docs/decisions.md)
    """

    data_dir: Path = Path("var")
    database_url: str | None = None
    environment: str = "development"
    max_upload_bytes: int = 512 * 2**20
    max_import_rows: int = 10_000_000
    max_body_bytes: int = 2**20
    trusted_proxies: tuple[str, ...] = ()
    token_ttl_minutes: int = 30
    public_url: str = "http://127.0.0.1:8000"
    projection_poll_seconds: float = 0.2
    application_review_days: int = 5
    holidays_file: Path = OFFICIAL_HOLIDAYS
    anonymous_rows_per_month: int = 10_000
    anonymous_calls_per_minute: int = 30
    unsafe_unmetered: bool = False
    escalation_interval_seconds: float = 60
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    payment_grace_hours: float = 72
    scan_budget_rows: int | None = 200_000
    log_format: str = "text"
    metrics_allow: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    ready_max_lag: int = 1000
    request_threads: int = os.cpu_count() or 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        environment = env.get("DATABANK_ENV", "development")
        if environment not in ("development", "production"):
            raise ValueError(f"DATABANK_ENV must be development or production, not {environment!r}")
        return cls(
            data_dir=Path(env.get("DATABANK_DATA_DIR", "var")),
            database_url=env.get("DATABANK_DATABASE_URL") or None,
            environment=environment,
            max_upload_bytes=int(float(env.get("DATABANK_MAX_UPLOAD_MB", "512")) * 2**20),
            max_import_rows=int(env.get("DATABANK_MAX_IMPORT_ROWS", "10000000")),
            max_body_bytes=int(float(env.get("DATABANK_MAX_BODY_MB", "1")) * 2**20),
            trusted_proxies=_proxies(env.get("DATABANK_TRUSTED_PROXIES", "")),
            token_ttl_minutes=int(env.get("DATABANK_TOKEN_TTL_MINUTES", "30")),
            public_url=env.get("DATABANK_PUBLIC_URL", "http://127.0.0.1:8000"),
            anonymous_rows_per_month=int(env.get("DATABANK_ANONYMOUS_ROWS", "10000")),
            anonymous_calls_per_minute=int(env.get("DATABANK_ANONYMOUS_CALLS_PER_MINUTE", "30")),
            unsafe_unmetered=env.get("DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS") == "1",
            application_review_days=int(env.get("DATABANK_APPLICATION_REVIEW_DAYS", "5")),
            holidays_file=Path(env.get("DATABANK_HOLIDAYS_FILE") or OFFICIAL_HOLIDAYS),
            escalation_interval_seconds=float(env.get("DATABANK_ESCALATION_INTERVAL_SECONDS", "60")),
            stripe_api_key=env.get("DATABANK_STRIPE_API_KEY") or None,
            stripe_webhook_secret=env.get("DATABANK_STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=env.get("DATABANK_STRIPE_API_BASE") or None,
            payment_grace_hours=float(env.get("DATABANK_PAYMENT_GRACE_HOURS", "72")),
            scan_budget_rows=_scan_budget(env.get("DATABANK_SCAN_BUDGET_ROWS")),
            log_format=_log_format(env.get("DATABANK_LOG_FORMAT")
                                   or ("text" if environment == "development" else "json")),
            metrics_allow=_metrics_allow(env.get("DATABANK_METRICS_ALLOW")),
            ready_max_lag=_ready_max_lag(env.get("DATABANK_READY_MAX_LAG", "1000")),
            request_threads=_request_threads(env.get("DATABANK_REQUEST_THREADS")),
        )

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    def holiday_calendar(self) -> HolidayCalendar:
        """The holidays file, read and checked (a bad date stops the start, naming the file)."""
        try:
            with open(self.holidays_file, encoding="utf-8") as file:
                data = json.load(file)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return HolidayCalendar.from_mapping(data)
        except (OSError, ValueError) as error:
            raise ValueError(f"DATABANK_HOLIDAYS_FILE {self.holidays_file}: {error}") from None


def _request_threads(value: str | None) -> int:
    """``DATABANK_REQUEST_THREADS``: a whole number from 1 to 1024 (a typo must stop the start,
    not silently serve on one thread)."""
    if value is None or not value.strip():
        return Settings.request_threads
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if not 1 <= threads <= 1024:
        raise ValueError(f"DATABANK_REQUEST_THREADS: {value!r} is not a whole number of threads "
                         "from 1 to 1024")
    return threads


def _scan_budget(value: str | None) -> int | None:
    """``DATABANK_SCAN_BUDGET_ROWS``: a whole number of rows ≥ 1, or ``none`` (no budget)."""
    if value is None or not value.strip():
        return Settings.scan_budget_rows
    if value.strip().lower() == "none":
        return None
    try:
        rows = int(value.replace("_", ""))
    except ValueError:
        rows = 0
    if rows < 1:
        raise ValueError(f"DATABANK_SCAN_BUDGET_ROWS must be a whole number of rows ≥ 1 or none, not {value!r}")
    return rows


def _networks(value: str, setting: str, hint: str = "") -> tuple[str, ...]:
    """Comma-separated addresses and networks (CIDR), each checked, so that a typo stops the
    start instead of silently trusting (or opening to) nobody or everybody."""
    items = tuple(item.strip() for item in value.split(",") if item.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"{setting}: {item!r} is not an IP address or network "
                             f"(like 10.0.0.0/8){hint}") from None
    return items


def _proxies(value: str) -> tuple[str, ...]:
    """``DATABANK_TRUSTED_PROXIES``: the reverse proxies whose ``X-Forwarded-For`` is believed."""
    return _networks(value, "DATABANK_TRUSTED_PROXIES")


def _log_format(value: str) -> str:
    if value not in ("json", "text"):
        raise ValueError(f"DATABANK_LOG_FORMAT must be json or text, not {value!r}")
    return value


def _metrics_allow(value: str | None) -> tuple[str, ...]:
    """``DATABANK_METRICS_ALLOW``: who may scrape ``/metrics``. Unset: loopback only; ``none``:
    nobody (a typo must not open it, so every item is checked like the trusted proxies)."""
    if value is None or not value.strip():
        return Settings.metrics_allow
    if value.strip().lower() == "none":
        return ()
    return _networks(value, "DATABANK_METRICS_ALLOW", ", nor 'none'")


def _ready_max_lag(value: str) -> int:
    try:
        lag = int(value)
    except ValueError:
        lag = -1
    if lag < 0:
        raise ValueError(f"DATABANK_READY_MAX_LAG must be a whole number of events ≥ 0, not {value!r}")
    return lag
