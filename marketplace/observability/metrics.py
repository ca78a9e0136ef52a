"""The bank's Prometheus metrics, defined once per process (prometheus-client's default registry).

Only counters and histograms are touched on a request's path (an increment or an observation: no
allocation beyond the library's); what is cheaper to read when asked (projection lag) is computed
by the web layer's collector at scrape time. Labels are bounded: every label value comes from a
fixed set or is mapped into one (see ``operation_label`` in web/metrics.py, ``webhook_outcome``).

Multi-process (``uvicorn --workers N``): with ``PROMETHEUS_MULTIPROC_DIR`` set in the environment
before the server starts, prometheus-client keeps each worker's values in files there and
``/metrics`` sums them (see docs/operations.md).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

#: Latency buckets (seconds) for requests: the access path answers in milliseconds, scans and
#: exports in seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Operations (or records) per transaction: the group commit's batches grow with the load.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000, 5000)

HTTP_REQUESTS = Counter(
    "databank_http_requests", "HTTP requests answered, by route template and status code.",
    ["route", "status"])
HTTP_LATENCY = Histogram(
    "databank_http_request_duration_seconds",
    "Time from a request's arrival to its response's last byte, by route template.",
    ["route"], buckets=LATENCY_BUCKETS)
GRAPHQL_REQUESTS = Counter(
    "databank_graphql_requests", "GraphQL requests by operation name (bounded) and HTTP status.",
    ["operation", "status"])
GRAPHQL_LATENCY = Histogram(
    "databank_graphql_request_duration_seconds",
    "Time to answer a GraphQL request, by operation name (bounded).",
    ["operation"], buckets=LATENCY_BUCKETS)

QUOTA_REFUSALS = Counter(
    "databank_quota_refusals", "Reservations the quota ledger refused, by kind (quota or rate).",
    ["kind"])

LEDGER_BATCH_SIZE = Histogram(
    "databank_ledger_commit_batch_size",
    "Reservations and settlements applied per ledger transaction (group commit).",
    buckets=BATCH_BUCKETS)
LEDGER_WAIT = Histogram(
    "databank_ledger_commit_wait_seconds",
    "Time a reservation or settlement waited for its group commit (queue + transaction).",
    buckets=LATENCY_BUCKETS)
USAGE_FED_RECORDS = Histogram(
    "databank_usage_feed_batch_records",
    "Usage records per batch fed from the ledger's outbox into the usage meters.",
    buckets=BATCH_BUCKETS)
USAGE_LAST_FED = Gauge(
    "databank_usage_feed_last_success_timestamp_seconds",
    "When the usage feed last fed a batch or found the outbox drained (Unix time): now minus "
    "this is how far the meters may lag behind the ledger.",
    multiprocess_mode="max")

PROJECTION_EVENTS = Counter(
    "databank_projection_events_applied", "Events applied to a read model, by follower.",
    ["follower"])

WEBHOOK_EVENTS = Counter(
    "databank_webhook_events",
    "Stripe webhook deliveries by outcome (applied, ignored, duplicate, or why refused).",
    ["outcome"])

EXPORT_ROWS = Counter(
    "databank_export_rows", "Rows sent in export downloads, by format (rate() gives rows/s).",
    ["format"])

_WEBHOOK_OUTCOMES = frozenset({"applied", "ignored", "duplicate"})


def webhook_outcome(outcome: str) -> str:
    """The bounded label of a handled event's outcome: billing's words carry event ids
    ("applied (evt_…)"), so only their first word is a label."""
    word = outcome.split(" ", 1)[0].rstrip(":")
    return word if word in _WEBHOOK_OUTCOMES else "other"
