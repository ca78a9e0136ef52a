"""The Starlette application: /graphql, export downloads, the JWKS, health, GraphiQL's static files, the home page."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, AsyncIterator

from anyio import CapacityLimiter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from marketplace.api.context import RequestContext
from marketplace.api.schema import schema
from marketplace.identity import jwks_endpoint
from marketplace.views.access_applications import AccessApplicationQueries
from marketplace.views.catalogue import CatalogueQueries
from marketplace.views.licensing import LicensingQueries
from marketplace.views.organisations import OrganisationQueries
from marketplace.views.usage import UsageQueries
from marketplace.web.auth import authenticate, check_uploader
from marketplace.web.exports import exports_route
from marketplace.web.graphiql import static_mount
from marketplace.web.graphql_endpoint import GraphQLEndpoint, GraphQLLimits
from marketplace.web.home import home_page
from marketplace.web.metrics import metrics_route
from marketplace.web.observability import RequestObservability
from marketplace.web.readiness import readyz_route
from marketplace.web.unavailable import unavailable_handlers
from marketplace.web.webhooks import stripe_webhook_route

if TYPE_CHECKING:
    from marketplace.bootstrap import DataBank

log = logging.getLogger("databank.web")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def create_app(bank: "DataBank", *, start_followers: bool = True) -> Starlette:
    """The ASGI app for one built data bank.

    :param start_followers: run the read-model followers in this process (False in workers of a
        deployment where a supervisor runs them once)
    """
    settings = bank.settings
    # The read side's views, over the bank's read models: built once, shared by every request.
    # The usage view reads the access path's clock when asked (tests set it on the bank).
    catalogue_queries = CatalogueQueries(bank.catalogue_view, bank.catalogue.history,
                                         bank.catalogue_follower.catch_up)
    usage_queries = UsageQueries(bank.ledger, bank.entitlements_view, bank.catalogue_view,
                                 clock=lambda: bank.row_access.clock())
    # The market's views catch the entitlements read model up themselves for a fresh read (a
    # mutation's answer shows its own change); resolvers never touch the follower.
    catch_up = bank.entitlements_follower.catch_up
    licensing_queries = LicensingQueries(bank.entitlements_view, catch_up)
    organisation_queries = OrganisationQueries(bank.entitlements_view, catch_up)
    access_application_queries = AccessApplicationQueries(bank.entitlements_view, catch_up)

    # The worker threads requests' database work runs on (the endpoint and the export downloads).
    limiter = CapacityLimiter(settings.request_threads)

    def context(request: Request) -> RequestContext:
        # Synchronous: run on a worker thread with the operation (the key lookup may wait on the
        # read model). Key expiry is judged by the access path's clock, the one quotas are counted by.
        caller = authenticate(request, bank.tokens, bank.row_access.api_key,
                              now=bank.row_access.clock, key_used=bank.row_access.key_used)
        return RequestContext(
            caller=caller,
            actor=caller.actor,
            row_access=bank.row_access,
            now=_utc_now,
            catalogue=bank.catalogue,
            staff=bank.staff,
            members=bank.members,
            licensing=bank.licensing,
            organisations=bank.organisations,
            subscriptions=bank.subscriptions,
            access_applications=bank.access_applications,
            api_keys=bank.api_keys,
            tokens=bank.tokens,
            login_throttle=bank.login_throttle,
            max_upload_bytes=settings.max_upload_bytes,
            exports=bank.exports,
            public_url=settings.public_url,
            billing=bank.billing,
            catalogue_queries=catalogue_queries,
            usage_queries=usage_queries,
            licensing_queries=licensing_queries,
            organisation_queries=organisation_queries,
            access_application_queries=access_application_queries,
        )

    def authorize_upload(request: Request) -> None:
        # Known before a byte of the file is read; the key's use is recorded by the context.
        check_uploader(authenticate(request, bank.tokens, bank.row_access.api_key,
                                    now=bank.row_access.clock))

    endpoint = GraphQLEndpoint(
        schema.graphql_schema, context_factory=context, limits=GraphQLLimits(),
        introspection=settings.is_development, graphiql=settings.is_development,
        max_upload_bytes=settings.max_upload_bytes, max_body_bytes=settings.max_body_bytes,
        authorize_upload=authorize_upload, logger=log, limiter=limiter,
        served_by_index=bank.row_access.served_by_index)

    def healthz(request: Request) -> JSONResponse:  # sync: Starlette runs it on a worker thread
        # Ready when the event store answers; report how far the catalogue read model lags.
        head = bank.catalogue.recorder.max_notification_id() or 0
        position = bank.catalogue_view.position()
        return JSONResponse({"status": "ok", "events": head, "catalogue_position": position,
                             "catalogue_lag": head - position})

    def home(request: Request) -> HTMLResponse:  # sync: its catalogue reads stay off the loop
        return home_page(bank, graphiql=settings.is_development)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if start_followers:
            bank.start()
        try:
            yield
        finally:
            bank.close()

    return Starlette(
        routes=[
            Route("/", home),
            endpoint.route("/graphql"),
            Route("/healthz", healthz),
            readyz_route(bank, settings.ready_max_lag),
            metrics_route((bank.catalogue_follower, bank.entitlements_follower),
                          settings.metrics_allow),
            Route("/.well-known/jwks.json", jwks_endpoint(bank.keyring)),
            exports_route(bank.exports, limiter=limiter),
            stripe_webhook_route(bank.billing, settings.stripe_webhook_secret,
                                 max_body_bytes=settings.max_body_bytes),
            static_mount(),
        ],
        lifespan=lifespan,
        # The database away (restarting, locked) under any route: 503 + Retry-After, not 500.
        exception_handlers=unavailable_handlers(),
        # The client address (anonymous allowances, login throttling) comes from forwarded
        # headers only when the peer is a configured proxy; the server itself trusts none
        # (`databank serve` runs uvicorn without proxy headers).
        # Request ids, the access log and the request metrics inside it: they see the client
        # address the proxy headers decided.
        middleware=[*([Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))]
                      if settings.trusted_proxies else []),
                    Middleware(RequestObservability)],
    )
