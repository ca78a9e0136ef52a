"""``/metrics``: the Prometheus exposition, for the addresses allowed to read it; the request
metrics the observability middleware counts; the projection lag, read when scraped.

Who may read it
    ``/metrics`` is not public data (it tells request volumes, operation names, lags), so it
    answers only clients whose address is in ``DATABANK_METRICS_ALLOW`` (default loopback; the
    address is the connection's peer, or the forwarded one when the peer is a trusted proxy —
    so a public proxy in front does not open it); others get 403. Scrapers authenticate by
    where they are, the way Prometheus is usually deployed: a login token lives 30 minutes.

Operation names
    A GraphQL operation's name is the client's choice, so it would make the label set grow
    without bound: the first ``MAX_OPERATION_NAMES`` names seen are labels, later ones count as
    ``other``; an unnamed operation is ``anonymous``, and a request refused before an operation
    was chosen (malformed, too large, parse or validation error) ``unknown``.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from marketplace.observability.metrics import (
    GRAPHQL_LATENCY,
    GRAPHQL_REQUESTS,
    HTTP_LATENCY,
    HTTP_REQUESTS,
)

if TYPE_CHECKING:
    from marketplace.projections.follower import Follower

MAX_OPERATION_NAMES = 100
#: Requests that matched no route (404s, scanners) share one label.
UNMATCHED = "unmatched"


class RequestMetrics:
    """Counts one answered request: by route template, and by GraphQL operation."""

    def __init__(self, max_operation_names: int = MAX_OPERATION_NAMES) -> None:
        self.max_operation_names = max_operation_names
        self._names: set[str] = set()
        self._lock = threading.Lock()
        # Children by label values: .labels() builds a key and takes a lock on every call; a
        # dict hit does neither (the label sets are bounded, so these stay small).
        self._http: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._graphql: dict[tuple[str, int], tuple[Any, Any]] = {}

    def operation_label(self, name: str | None) -> str:
        if name is None:
            return "anonymous"
        if name in self._names:
            return name
        with self._lock:
            if len(self._names) < self.max_operation_names:
                self._names.add(name)
                return name
        return "other"

    def observe(self, route: str | None, status: int, seconds: float,
                operation: str | None | bool = False) -> None:
        """:param operation: the GraphQL operation's name (None: unnamed), True when the request
            reached /graphql but no operation was chosen, False for other routes."""
        key = (route or UNMATCHED, status)
        children = self._http.get(key)
        if children is None:
            children = self._http[key] = (HTTP_REQUESTS.labels(key[0], str(status)),
                                          HTTP_LATENCY.labels(key[0]))
        children[0].inc()
        children[1].observe(seconds)
        if operation is False:
            return
        label = "unknown" if operation is True else self.operation_label(operation)
        gkey = (label, status)
        graphql = self._graphql.get(gkey)
        if graphql is None:
            graphql = self._graphql[gkey] = (GRAPHQL_REQUESTS.labels(label, str(status)),
                                             GRAPHQL_LATENCY.labels(label))
        graphql[0].inc()
        graphql[1].observe(seconds)


class ProjectionLag(Collector):
    """``databank_projection_lag_events{follower}``: the log's newest notification minus the
    read model's position, read at scrape time (two small queries per follower, no cost on the
    request path)."""

    def __init__(self, followers: Sequence["Follower"]) -> None:
        self.followers = followers

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("databank_projection_lag_events",
                                   "Events in a followed log not yet applied to its read model.",
                                   labels=["follower"])
        for follower, lag in projection_lags(self.followers):
            if lag is not None:
                family.add_metric([follower], lag)
        yield family


def projection_lags(followers: Sequence["Follower"]) -> list[tuple[str, int | None]]:
    """(follower name, events behind) per follower; None when a store did not answer."""
    lags: list[tuple[str, int | None]] = []
    for follower in followers:
        try:
            head = follower.app.recorder.max_notification_id() or 0
            lags.append((follower.name, max(0, head - follower.view.position())))
        except Exception:
            lags.append((follower.name, None))
    return lags


def exposition(bank_registry: CollectorRegistry) -> bytes:
    """The process's metrics (every worker's, summed, in multiprocess mode) and the bank's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        process = generate_latest(registry)
    else:
        process = generate_latest(REGISTRY)
    return process + generate_latest(bank_registry)


def address_allowed(host: str | None, networks: Sequence[Any]) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def metrics_route(followers: Sequence["Follower"], allow: Sequence[str]) -> Route:
    """``GET /metrics`` for ``allow`` (addresses or networks); 403 for everyone else."""
    networks = [ipaddress.ip_network(item, strict=False) for item in allow]
    bank_registry = CollectorRegistry(auto_describe=True)
    bank_registry.register(ProjectionLag(followers))

    async def metrics(request: Request) -> Response:
        host = request.client.host if request.client else None
        if not address_allowed(host, networks):
            return JSONResponse({"error": "the metrics are served only to the addresses in "
                                          "DATABANK_METRICS_ALLOW"}, status_code=403)
        # The lag queries wait on the stores: off the event loop.
        body = await run_in_threadpool(exposition, bank_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])
