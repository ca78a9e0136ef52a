"""``/readyz``: may this process take traffic? Every store answers a trivial query and every
read model is within ``DATABANK_READY_MAX_LAG`` events of its log.

200 ``{"status": "ready", "checks": {...}}`` or 503 ``{"status": "not ready", "checks": {...},
"notReady": [names]}``, each check ``"ok"`` or what is wrong (an exception's class, never its
text: connection strings and SQL stay out of an unauthenticated answer). A load balancer stops
sending requests while it is 503; liveness (``/healthz``) is a separate question.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from marketplace.web.metrics import projection_lags

if TYPE_CHECKING:
    from marketplace.bootstrap import DataBank

#: A subject no caller has (subjects are subscription ids or ``anon:<ip>``): its usage is a
#: one-row lookup that reads the ledger without touching anyone's counters.
_PROBE_SUBJECT = "readyz:probe"


def readiness_checks(bank: "DataBank", max_lag: int) -> dict[str, Callable[[], Any]]:
    """Name → a probe that raises (or returns a message) when that part is not ready."""
    checks: dict[str, Callable[[], Any]] = {}
    stores = {"catalogue": bank.catalogue, "staff": bank.staff, "market": bank.market,
              "metering": bank.metering}
    if bank.billing is not None:
        stores["billing"] = bank.billing.records
    for name, app in stores.items():
        checks[f"events:{name}"] = app.recorder.max_notification_id
    checks["datastore"] = lambda: bank.datastore.has_table("readyz")
    checks["ledger"] = lambda: bank.ledger.usage(_PROBE_SUBJECT, "2000-01")

    def lag_probe(follower: Any) -> Callable[[], Any]:
        def probe() -> str | None:
            ((_, lag),) = projection_lags([follower])
            if lag is None:
                return "its store did not answer"
            if lag > max_lag:
                return f"{lag} events behind (the limit is {max_lag})"
            return None
        return probe

    for follower in (bank.catalogue_follower, bank.entitlements_follower):
        checks[f"projection:{follower.name}"] = lag_probe(follower)
    return checks


def run_checks(checks: dict[str, Callable[[], Any]]) -> dict[str, str]:
    results: dict[str, str] = {}
    for name, probe in checks.items():
        try:
            outcome = probe()
        except Exception as error:
            results[name] = f"failed: {type(error).__name__}"
        else:
            results[name] = outcome if isinstance(outcome, str) else "ok"
    return results


def readyz_route(bank: "DataBank", max_lag: int) -> Route:
    checks = readiness_checks(bank, max_lag)

    async def readyz(request: Request) -> JSONResponse:
        results = await run_in_threadpool(run_checks, checks)  # the probes wait on the stores
        failing = [name for name, result in results.items() if result != "ok"]
        if failing:
            return JSONResponse({"status": "not ready", "checks": results, "notReady": failing},
                                status_code=503)
        return JSONResponse({"status": "ready", "checks": results})

    return Route("/readyz", readyz, methods=["GET"])
