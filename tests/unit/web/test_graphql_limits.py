"""Limits on depth, aliases, root fields, cost and page size — through the endpoint and as rules."""

from __future__ import annotations

from typing import Any

import graphene
import pytest
from graphql import get_introspection_query, parse, specified_rules, validate
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.web.graphql_endpoint import GraphQLEndpoint, GraphQLLimits
from marketplace.web.graphql_limits import make_limit_rules
from support.endpoint_context import PlainContext


class Item(graphene.ObjectType):
    id = graphene.Int()
    items = graphene.List(lambda: Item, first=graphene.Int())
    tags = graphene.List(graphene.String, limit=graphene.Int(default_value=5))

    @staticmethod
    def resolve_items(root: Any, info: Any, first: int | None = None) -> list:
        return [Item(id=i) for i in range(first if first is not None else 1)]

    @staticmethod
    def resolve_tags(root: Any, info: Any, limit: int) -> list:
        return ["t"] * limit


class Query(graphene.ObjectType):
    items = graphene.List(Item, first=graphene.Int())
    hello = graphene.String()

    @staticmethod
    def resolve_items(root: Any, info: Any, first: int | None = None) -> list:
        return [Item(id=i) for i in range(first if first is not None else 1)]

    @staticmethod
    def resolve_hello(root: Any, info: Any) -> str:
        return "hello"


SCHEMA = graphene.Schema(query=Query).graphql_schema
# Loose defaults, so each test meets only the limit it is about.
LOOSE = GraphQLLimits(max_depth=100, max_aliases=100, max_root_fields=100, max_cost=10**12,
                      max_page_size=10**6, default_page_size=10)


async def context_factory(request: Any) -> PlainContext:
    return PlainContext()


def post(query: str, variables: dict | None = None, **limits: Any) -> Any:
    endpoint = GraphQLEndpoint(SCHEMA, context_factory=context_factory,
                               limits=GraphQLLimits(**{**LOOSE.__dict__, **limits}))
    client = TestClient(Starlette(routes=[endpoint.route()]))
    return client.post("/graphql", json={"query": query, "variables": variables or {}})


def nested(levels: int, leaf: str = "id", argument: str = "(first: 1)") -> str:
    query = leaf
    for _ in range(levels):
        query = f"items{argument} {{ {query} }}"
    return "{ " + query + " }"


def limit_errors(response: Any) -> list[dict]:
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in errors)
    return errors


# --- depth --------------------------------------------------------------------------------


def test_a_query_at_the_depth_limit_runs() -> None:
    response = post(nested(9), max_depth=10)  # nine lists and the leaf: depth 10
    assert response.status_code == 200
    assert "errors" not in response.json()


def test_a_query_deeper_than_the_limit_is_refused_naming_limit_and_depth() -> None:
    [error] = limit_errors(post(nested(10), max_depth=10))
    assert error["message"] == "Query depth 11 of the operation exceeds the limit of 10."
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "max_depth",
                                   "maximum": 10, "actual": 11}


def test_depth_follows_fragments_and_inline_fragments() -> None:
    query = """
        query Deep { items(first: 1) { ...Two } }
        fragment Two on Item { items(first: 1) { ... on Item { items(first: 1) { ...Leaf } } } }
        fragment Leaf on Item { items(first: 1) { id } }
    """
    [error] = limit_errors(post(query, max_depth=4))
    assert error["message"] == "Query depth 5 of operation 'Deep' exceeds the limit of 4."
    assert post(query, max_depth=5).status_code == 200


def test_introspection_does_not_count_towards_depth() -> None:
    query = "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }"
    assert post(query, max_depth=2).status_code == 200


# --- aliases and root fields ----------------------------------------------------------------


def test_too_many_aliases_are_refused_counting_each_fragment_spread() -> None:
    query = """
        { a: items(first: 1) { ...F } b: items(first: 1) { ...F } }
        fragment F on Item { x: id y: id }
    """  # a, b, and x, y twice: 6
    [error] = limit_errors(post(query, max_aliases=5))
    assert error["message"] == "6 aliases in the operation exceed the limit of 5."
    assert error["extensions"]["limit"] == "max_aliases"
    assert post(query, max_aliases=6).status_code == 200


def test_too_many_root_fields_are_refused() -> None:
    query = "{ " + " ".join(f"h{i}: hello" for i in range(4)) + " }"
    [error] = limit_errors(post(query, max_root_fields=3))
    assert error["message"].startswith("4 root fields in the operation exceed the limit of 3")
    assert error["extensions"]["actual"] == 4
    assert post(query, max_root_fields=4).status_code == 200


# --- cost ---------------------------------------------------------------------------------


def test_cost_multiplies_each_subtree_by_its_literal_first() -> None:
    # items(first: 20) { id items(first: 30) { id } } = 20 * (1 + 1 + 30 * (1 + 1)) = 1240
    query = "{ items(first: 20) { id items(first: 30) { id } } }"
    [error] = limit_errors(post(query, max_cost=1239))
    assert error["message"].startswith("Query cost 1240 of the operation exceeds the limit of 1239")
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "max_cost",
                                   "maximum": 1239, "actual": 1240}
    assert post(query, max_cost=1240).status_code == 200


def test_cost_takes_first_from_the_variables_of_each_request() -> None:
    query = "query($n: Int) { items(first: $n) { id items(first: $n) { id } } }"
    # n = 10: 10 * (2 + 10 * 2) = 220; n = 11: 11 * (2 + 22) = 264
    assert post(query, {"n": 10}, max_cost=220).status_code == 200
    [error] = limit_errors(post(query, {"n": 11}, max_cost=220))
    assert error["extensions"]["actual"] == 264


def test_a_cached_query_is_still_checked_against_new_variables() -> None:
    endpoint = GraphQLEndpoint(SCHEMA, context_factory=context_factory,
                               limits=GraphQLLimits(max_cost=100, default_page_size=10))
    client = TestClient(Starlette(routes=[endpoint.route()]))
    query = "query($n: Int) { items(first: $n) { id } }"
    assert client.post("/graphql", json={"query": query, "variables": {"n": 50}}).status_code == 200
    refused = client.post("/graphql", json={"query": query, "variables": {"n": 51}})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["actual"] == 102


def test_cost_uses_the_default_page_size_when_first_is_absent() -> None:
    # default_page_size 10: items { id } = 10 * 2 = 20
    [error] = limit_errors(post("{ items { id } }", max_cost=19, default_page_size=10))
    assert error["extensions"]["actual"] == 20


def test_cost_uses_the_argument_default_of_the_schema_when_absent() -> None:
    # items(first: 1) { tags } = 1 * (1 + 5 * 1), tags' limit defaults to 5 in the schema
    [error] = limit_errors(post("{ items(first: 1) { tags } }", max_cost=5))
    assert error["extensions"]["actual"] == 6


def test_cost_uses_the_variable_default_when_the_variable_is_not_sent() -> None:
    query = "query($n: Int = 7) { items(first: $n) { id } }"
    [error] = limit_errors(post(query, None, max_cost=13))
    assert error["extensions"]["actual"] == 14
    [error] = limit_errors(post(query, {"n": None}, max_cost=13, default_page_size=10))
    assert error["extensions"]["actual"] == 20  # explicit null: the argument is absent


def test_cost_follows_fragments_and_counts_each_spread() -> None:
    query = """
        { a: items(first: 3) { ...F } b: items(first: 3) { ...F } }
        fragment F on Item { id items(first: 4) { id } }
    """  # each: 3 * (1 + 1 + 4 * 1 * 2) = 30; total 60
    [error] = limit_errors(post(query, max_cost=59))
    assert error["extensions"]["actual"] == 60


def test_fragments_spread_exponentially_are_costed_without_walking_every_copy() -> None:
    levels = 40
    fragments = [f"fragment F{i} on Item {{ items(first: 1) {{ ...F{i + 1} }} "
                 f"again: items(first: 1) {{ ...F{i + 1} }} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Item {{ id }}")
    query = "{ items(first: 1) { ...F0 } }\n" + "\n".join(fragments)
    # 2**40 copies: walking each would never answer, so an answer at all shows they were costed
    # without the walk (how fast is not this test's business).
    response = post(query, max_depth=1000, max_aliases=10**15)
    [error] = limit_errors(response)
    assert error["extensions"]["limit"] == "max_cost"
    assert error["extensions"]["actual"] > 2**levels


# --- page size ----------------------------------------------------------------------------


def test_a_literal_page_size_over_the_limit_is_refused_naming_argument_and_limit() -> None:
    [error] = limit_errors(post("{ items(first: 1001) { id } }", max_page_size=1000))
    assert error["message"].startswith(
        "Argument 'first' of field 'items' is 1001, over the page-size limit of 1000")
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "max_page_size",
                                   "maximum": 1000, "actual": 1001}
    assert error["locations"] == [{"line": 1, "column": 9}]


def test_a_page_size_from_a_variable_over_the_limit_is_refused() -> None:
    query = "query($size: Int) { items(first: 1) { tags(limit: $size) } }"
    assert post(query, {"size": 1000}, max_page_size=1000).status_code == 200
    [error] = limit_errors(post(query, {"size": 1001}, max_page_size=1000))
    assert error["message"].startswith("Argument 'limit' of field 'tags' is 1001")


# --- the rules on their own -----------------------------------------------------------------


@pytest.mark.parametrize("query, limit", [
    ("{ items(first: 1) { items(first: 1) { id } } }", "max_depth"),
    ("{ items(first: 1) { a: id b: id } }", "max_aliases"),
    ("{ hello items(first: 1) { id } }", "max_root_fields"),
    ("{ items(first: 2) { id tags(limit: 2) } }", "max_cost"),
    ("{ items(first: 3) { id } }", "max_page_size"),
])
def test_each_rule_reports_its_own_limit_with_graphql_core_validate(query: str, limit: str) -> None:
    tight = GraphQLLimits(max_depth=2, max_aliases=1, max_root_fields=1, max_cost=6,
                          max_page_size=2)
    errors = validate(SCHEMA, parse(query), (*specified_rules, *make_limit_rules(tight)))
    assert [e.extensions["limit"] for e in errors] == [limit]


def test_the_full_introspection_query_of_graphiql_passes_the_default_limits() -> None:
    endpoint = GraphQLEndpoint(SCHEMA, context_factory=context_factory)
    client = TestClient(Starlette(routes=[endpoint.route()]))
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
