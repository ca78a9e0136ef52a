"""The one GraphQL schema: each domain's queries and mutations side by side."""

from __future__ import annotations

import graphene

from marketplace.api.catalogue.mutations import CatalogueMutations
from marketplace.api.catalogue.queries import CatalogueQueries
from marketplace.api.staff.schema import StaffMutations, StaffQueries


class Query(CatalogueQueries, StaffQueries, graphene.ObjectType):
    """Read the catalogue and who you are."""


class Mutation(CatalogueMutations, StaffMutations, graphene.ObjectType):
    """Change things: every mutation answers with a payload carrying `errors`."""


schema = graphene.Schema(query=Query, mutation=Mutation)


def schema_sdl() -> str:
    """The schema as SDL: the committed contract in graphql/schema.graphql."""
    from graphql import print_schema

    return print_schema(schema.graphql_schema) + "\n"
