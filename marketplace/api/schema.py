"""The one GraphQL schema: each domain's queries and mutations side by side."""

from __future__ import annotations

import graphene

from marketplace.api.access_applications.mutations import AccessApplicationMutations
from marketplace.api.access_applications.queries import AccessApplicationQueries
from marketplace.api.billing.schema import BillingMutations, BillingQueries
from marketplace.api.catalogue.mutations import CatalogueMutations
from marketplace.api.catalogue.queries import CatalogueQueries
from marketplace.api.exports.schema import ExportMutations
from marketplace.api.licensing.mutations import LicensingMutations
from marketplace.api.licensing.queries import LicensingQueries
from marketplace.api.organisations.mutations import OrganisationMutations
from marketplace.api.organisations.queries import OrganisationQueries
from marketplace.api.rows.schema import RowQueries
from marketplace.api.staff.schema import StaffMutations, StaffQueries
from marketplace.api.usage.queries import UsageQueries


# graphene lists the fields of the last base first (it walks the MRO backwards), and the
# published field order must not move: a domain's queries come right AFTER those of the base
# named to its right, so access applications (named left of licensing) follow subscriptions.
class Query(UsageQueries, CatalogueQueries, RowQueries, StaffQueries, AccessApplicationQueries,
            LicensingQueries, OrganisationQueries, BillingQueries, graphene.ObjectType):
    """Read the catalogue, the rows your licences allow, licences and plans, your
    organisation, usage, and who you are."""


class Mutation(CatalogueMutations, StaffMutations, AccessApplicationMutations, LicensingMutations,
               OrganisationMutations, ExportMutations, BillingMutations, graphene.ObjectType):
    """Change things: every mutation answers with a payload carrying `errors`."""


schema = graphene.Schema(query=Query, mutation=Mutation)


def schema_sdl() -> str:
    """The schema as SDL: the committed contract in graphql/schema.graphql."""
    from graphql import print_schema

    return print_schema(schema.graphql_schema) + "\n"
