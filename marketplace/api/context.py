"""The request context: what a resolver may use (``info.context``), typed.

The web layer builds one per GraphQL request (``marketplace.web.app``): who is calling and the
data bank's services, set once. The endpoint sets ``request``; resolvers add what the response
needs (headers, extensions, reservations held until the response is known), and the endpoint
reads those after execution (see ``marketplace.web.graphql_endpoint``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the services are built and passed in by the composition root
    from starlette.requests import Request

    from domain.actors import Actor
    from marketplace.api.rows.schema import HeldPage
    from marketplace.billing.service import Billing
    from marketplace.identity import TokenService
    from marketplace.identity.throttle import LoginThrottle
    from marketplace.metering import Grant
    from marketplace.services.access import Caller, RowAccess
    from marketplace.services.catalogue import Catalogue
    from marketplace.services.exports import Exports
    from marketplace.services.market.access_applications import AccessApplications
    from marketplace.services.market.api_keys import ApiKeys
    from marketplace.services.market.licensing import Licensing
    from marketplace.services.market.members import Members
    from marketplace.services.market.organisations import Organisations
    from marketplace.services.market.subscriptions import Subscriptions
    from marketplace.services.staff import StaffDirectory
    from marketplace.views.access_applications import AccessApplicationQueries
    from marketplace.views.catalogue import CatalogueQueries
    from marketplace.views.licensing import LicensingQueries
    from marketplace.views.organisations import OrganisationQueries
    from marketplace.views.usage import UsageQueries


# Slots: one is built per request on the hot path, and a misspelt attribute fails loudly.
@dataclass(slots=True, eq=False)
class RequestContext:
    """One GraphQL request's context.

    Set once by the web layer (treat as read-only):

    :ivar caller: who is asking (actor, API key scopes, client address)
    :ivar actor: ``caller.actor``
    :ivar now: the wall clock (UTC) the response's reset times are counted from
    :ivar max_upload_bytes: the largest upload the endpoint accepts
    :ivar public_url: the server's public base URL (links in answers)
    :ivar members: ... :ivar api_keys: the market's write side, one service per capability
        (members, licensing, organisations, subscriptions, access_applications, api_keys)
    :ivar catalogue_queries: the catalogue's read side (who sees which assets and histories)
    :ivar usage_queries: the usage read side (whose usage, which client addresses)
    :ivar licensing_queries: ... :ivar access_application_queries: the read sides of licensing
        (templates, plans, subscriptions), organisations (members' organisations, API keys,
        notifications) and access applications: who sees which, and the fresh reads a mutation
        answers with

    Filled while the request runs:

    :ivar request: the HTTP request (set by the endpoint before execution)
    :ivar response_headers: merged into the HTTP response's headers
    :ivar response_extensions: merged into the response's ``extensions``
    :ivar grants: reservations held until the endpoint knows which fields reached the response
    :ivar quota_view: the quota last reported, and the record id of the page it belongs to
        (None: a refusal's or another reservation's grant)
    """

    caller: Caller
    actor: Actor
    row_access: RowAccess
    now: Callable[[], datetime]
    catalogue: Catalogue
    staff: StaffDirectory
    members: Members
    licensing: Licensing
    organisations: Organisations
    subscriptions: Subscriptions
    access_applications: AccessApplications
    api_keys: ApiKeys
    tokens: TokenService
    login_throttle: LoginThrottle
    max_upload_bytes: int
    exports: Exports | None
    public_url: str
    billing: Billing | None
    catalogue_queries: CatalogueQueries
    usage_queries: UsageQueries
    licensing_queries: LicensingQueries
    organisation_queries: OrganisationQueries
    access_application_queries: AccessApplicationQueries
    request: Request | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_extensions: dict[str, Any] = field(default_factory=dict)
    grants: list[HeldPage] = field(default_factory=list)
    quota_view: tuple[Grant, str | None] | None = None
