"""The /graphql endpoint over HTTP: requests, error codes and statuses, context, cache, GraphiQL."""

from __future__ import annotations

import logging
from typing import Any

import graphene
import orjson
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import marketplace.web.graphql_endpoint as endpoint_module
from marketplace.api.errors import (
    BadUserInputError,
    QuotaExceededError,
    RateLimitedError,
    UnauthenticatedError,
)
from marketplace.web.graphiql import static_mount
from marketplace.web.graphql_endpoint import GraphQLEndpoint, GraphQLLimits
from support.endpoint_context import PlainContext


class Item(graphene.ObjectType):
    id = graphene.Int()
    items = graphene.List(lambda: Item, first=graphene.Int())

    @staticmethod
    def resolve_items(root: Any, info: Any, first: int | None = None) -> list:
        return [Item(id=i) for i in range(first if first is not None else 2)]


class Query(graphene.ObjectType):
    hello = graphene.String(name=graphene.String())
    items = graphene.List(Item, first=graphene.Int())
    me = graphene.String()
    headered = graphene.String()

    @staticmethod
    def resolve_hello(root: Any, info: Any, name: str = "world") -> str:
        return f"hello {name}"

    @staticmethod
    def resolve_items(root: Any, info: Any, first: int | None = None) -> list:
        return [Item(id=i) for i in range(first if first is not None else 2)]

    @staticmethod
    def resolve_me(root: Any, info: Any) -> str:
        raise UnauthenticatedError("log in first")

    @staticmethod
    def resolve_headered(root: Any, info: Any) -> str:
        info.context.response_headers["RateLimit-Remaining"] = "41"
        info.context.response_extensions["quota"] = {"remaining": 41}
        return "metered"


class Mutation(graphene.ObjectType):
    reject = graphene.Int()
    explode = graphene.Int()
    spend = graphene.Int()
    throttle = graphene.Int()

    @staticmethod
    def resolve_reject(root: Any, info: Any) -> int:
        raise BadUserInputError("the year must be after 1949", field_name="year")

    @staticmethod
    def resolve_explode(root: Any, info: Any) -> int:
        raise RuntimeError("secret db detail")

    @staticmethod
    def resolve_spend(root: Any, info: Any) -> int:
        raise QuotaExceededError("monthly quota used up", retry_after=3600)

    @staticmethod
    def resolve_throttle(root: Any, info: Any) -> int:
        raise RateLimitedError("slow down", retry_after=1.2)


SCHEMA = graphene.Schema(query=Query, mutation=Mutation).graphql_schema


async def plain_context(request: Any) -> PlainContext:
    return PlainContext()


def client_for(**options: Any) -> TestClient:
    options.setdefault("context_factory", plain_context)
    endpoint = GraphQLEndpoint(SCHEMA, **options)
    return TestClient(Starlette(routes=[endpoint.route(), static_mount()]))


@pytest.fixture
def client() -> TestClient:
    return client_for()


def codes(response: Any) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


# --- requests ---------------------------------------------------------------------------------


def test_a_query_posted_as_json_returns_its_data(client: TestClient) -> None:
    response = client.post("/graphql", json={
        "query": "query Greet($name: String) { hello(name: $name) }",
        "variables": {"name": "六安"}, "operationName": "Greet"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"hello": "hello 六安"}}


def test_a_query_sent_with_get_returns_its_data(client: TestClient) -> None:
    response = client.get("/graphql", params={
        "query": "query($name: String) { hello(name: $name) }", "variables": '{"name": "Lu\'an"}'})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello Lu'an"}}


def test_a_mutation_sent_with_get_is_refused_with_405(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "mutation { reject }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "cannot be sent with GET" in response.json()["errors"][0]["message"]


def test_a_batched_array_of_operations_is_refused_with_400(client: TestClient) -> None:
    response = client.post("/graphql", json=[{"query": "{ hello }"}, {"query": "{ hello }"}])
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "message": "batched queries are not supported: send one operation per request",
        "extensions": {"code": "BAD_REQUEST"}}]}


def test_malformed_json_is_refused_with_a_message_saying_so(client: TestClient) -> None:
    response = client.post("/graphql", content=b'{"query": "{ hello }"',
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("Malformed JSON in the request body")
    assert codes(response) == ["BAD_REQUEST"]


def test_a_form_encoded_post_is_refused_with_415(client: TestClient) -> None:
    response = client.post("/graphql", data={"query": "{ hello }"})
    assert response.status_code == 415
    assert codes(response) == ["BAD_REQUEST"]


def test_a_request_without_query_text_is_a_bad_request(client: TestClient) -> None:
    response = client.post("/graphql", json={"variables": {}})
    assert response.status_code == 400
    assert "'query'" in response.json()["errors"][0]["message"]


def test_a_json_body_over_its_limit_is_refused_with_413() -> None:
    client = client_for(max_body_bytes=100)
    response = client.post("/graphql", json={"query": "{ hello }", "variables": {"x": "y" * 200}})
    assert response.status_code == 413
    assert codes(response) == ["PAYLOAD_TOO_LARGE"]


def test_an_operation_name_not_in_the_document_is_a_bad_request(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "query A { hello }", "operationName": "B"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Unknown operation named 'B'."


def test_two_operations_without_an_operation_name_are_a_bad_request(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "query A { hello } query B { hello }"})
    assert response.status_code == 400
    assert "Must provide operation name" in response.json()["errors"][0]["message"]


# --- parse and validation -----------------------------------------------------------------------


def test_a_syntax_error_is_refused_as_graphql_parse_failed(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ hello "})
    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_PARSE_FAILED"]
    assert response.json()["errors"][0]["locations"] == [{"line": 1, "column": 9}]


def test_a_query_over_the_token_limit_is_refused_by_the_parser() -> None:
    client = client_for(limits=GraphQLLimits(max_tokens=20))
    response = client.post("/graphql", json={"query": "{ " + "hello " * 30 + "}"})
    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_PARSE_FAILED"]
    assert "more than 20 tokens" in response.json()["errors"][0]["message"]


def test_a_query_text_over_the_byte_limit_is_refused_before_parsing() -> None:
    client = client_for(limits=GraphQLLimits(max_query_bytes=50))
    response = client.post("/graphql", json={"query": "{ hello }" + " " * 60})
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]
    assert "limit of 50 bytes" in response.json()["errors"][0]["message"]


def test_an_unknown_field_is_a_validation_error_with_a_suggestion(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ helo }"})
    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean 'hello'?" in response.json()["errors"][0]["message"]


def test_without_introspection_validation_errors_give_no_suggestions() -> None:
    response = client_for(introspection=False).post("/graphql", json={"query": "{ helo }"})
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert message == "Cannot query field 'helo' on type 'Query'."


def test_without_introspection_schema_queries_are_refused() -> None:
    response = client_for(introspection=False).post(
        "/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert response.status_code == 400
    assert set(codes(response)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection has been disabled" in response.json()["errors"][0]["message"]
    assert "__schema" in response.json()["errors"][0]["message"]


def test_without_introspection_typename_still_works() -> None:
    response = client_for(introspection=False).post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_with_introspection_the_schema_can_be_queried(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_variables_that_do_not_coerce_are_bad_user_input_and_nothing_runs(
        client: TestClient) -> None:
    response = client.post("/graphql", json={
        "query": "query($n: Int) { items(first: $n) { id } }", "variables": {"n": "many"}})
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "data" not in response.json()


# --- errors from resolvers ------------------------------------------------------------------


def test_an_unexpected_exception_is_masked_with_a_reference_and_logged(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="marketplace.web.graphql_endpoint"):
        response = client.post("/graphql", json={"query": "mutation { explode }"})
    assert response.status_code == 200
    assert "secret db detail" not in response.text
    error = response.json()["errors"][0]
    reference = error["extensions"]["reference"]
    assert error["message"] == f"Internal server error (reference {reference})"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["path"] == ["explode"]
    [record] = caplog.records
    assert reference in record.getMessage()
    assert record.exc_info is not None and str(record.exc_info[1]) == "secret db detail"


def test_an_api_error_keeps_its_code_and_extra_fields(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "mutation { reject }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"reject": None}, "errors": [{
        "message": "the year must be after 1949", "locations": [{"line": 1, "column": 12}],
        "path": ["reject"], "extensions": {"code": "BAD_USER_INPUT", "fieldName": "year"}}]}


def test_unauthenticated_stays_http_200_with_its_code(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ hello me }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"hello": "hello world", "me": None}
    assert codes(response) == ["UNAUTHENTICATED"]


def test_a_used_up_quota_answers_429_with_retry_after(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "mutation { spend }"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3600"
    assert response.json()["errors"][0]["extensions"] == {"code": "QUOTA_EXCEEDED",
                                                          "retryAfter": 3600}


def test_a_rate_limit_answers_429_with_retry_after_rounded_up(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "mutation { throttle }"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"


def test_an_api_error_from_the_context_factory_refuses_with_its_status() -> None:
    async def bad_token(request: Any) -> PlainContext:
        raise UnauthenticatedError("the token has expired")

    response = client_for(context_factory=bad_token).post("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 401
    assert codes(response) == ["UNAUTHENTICATED"]


def test_a_failing_context_factory_is_masked_as_500() -> None:
    async def broken(request: Any) -> PlainContext:
        raise RuntimeError("secret connection string")

    response = client_for(context_factory=broken).post("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 500
    assert "secret" not in response.text
    assert codes(response) == ["INTERNAL_SERVER_ERROR"]


# --- context ------------------------------------------------------------------------------


def test_the_context_gets_the_request_and_its_headers_and_extensions_reach_the_response() -> None:
    async def context_factory(request: Any) -> PlainContext:
        return PlainContext()

    class Spy(graphene.ObjectType):
        path = graphene.String()

        @staticmethod
        def resolve_path(root: Any, info: Any) -> str:
            return info.context.request.url.path

    schema = graphene.Schema(query=Spy).graphql_schema
    endpoint = GraphQLEndpoint(schema, context_factory=context_factory)
    client = TestClient(Starlette(routes=[endpoint.route()]))
    response = client.post("/graphql", json={"query": "{ path }"})
    assert response.json() == {"data": {"path": "/graphql"}}
    response = client_for().post("/graphql", json={"query": "{ headered }"})
    assert response.headers["ratelimit-remaining"] == "41"
    assert response.json() == {"data": {"headered": "metered"},
                               "extensions": {"quota": {"remaining": 41}}}


# --- cache --------------------------------------------------------------------------------


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counts = {"parse": 0, "validate": 0}

    def counting(name: str, real: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(endpoint_module, "parse", counting("parse", endpoint_module.parse))
    monkeypatch.setattr(endpoint_module, "validate",
                        counting("validate", endpoint_module.validate))
    return counts


def test_a_repeated_query_skips_parse_and_validate(client: TestClient,
                                                   calls: dict[str, int]) -> None:
    for name in ("a", "b", "c"):
        response = client.post("/graphql", json={
            "query": "query($n: String) { hello(name: $n) }", "variables": {"n": name}})
        assert response.json() == {"data": {"hello": f"hello {name}"}}
    assert calls == {"parse": 1, "validate": 1}


def test_an_invalid_query_is_cached_with_its_errors(client: TestClient,
                                                    calls: dict[str, int]) -> None:
    first = client.post("/graphql", json={"query": "{ helo }"})
    second = client.post("/graphql", json={"query": "{ helo }"})
    assert first.status_code == second.status_code == 400
    assert first.json() == second.json()
    assert calls == {"parse": 1, "validate": 1}


def test_the_cache_forgets_the_least_recently_used_query(calls: dict[str, int]) -> None:
    client = client_for(cache_size=2)
    for query in ("{ hello }", "{ me }", "{ hello }", "{ __typename }", "{ hello }", "{ me }"):
        client.post("/graphql", json={"query": query})
    # LRU: misses are hello, me, __typename (evicting me, not the just-used hello) and me again;
    # first-in-first-out would also miss the third hello.
    assert calls["parse"] == 4


def test_without_a_cache_every_request_parses(calls: dict[str, int]) -> None:
    client = client_for(cache_size=0)
    for _ in range(3):
        client.post("/graphql", json={"query": "{ hello }"})
    assert calls == {"parse": 3, "validate": 3}


# --- GraphiQL -----------------------------------------------------------------------------


def test_a_browser_gets_graphiql_and_its_vendored_scripts(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'data-endpoint="/graphql"' in page.text
    assert "://" not in page.text  # nothing from a CDN
    for script in ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js",
                   "init.js"):
        assert f'src="/static/graphiql/{script}"' in page.text
        asset = client.get(f"/static/graphiql/{script}")
        assert asset.status_code == 200 and len(asset.content) > 1000
    assert client.get("/static/graphiql/graphiql.min.css").status_code == 200
    assert "GraphQL-Preflight" in client.get("/static/graphiql/init.js").text


def test_with_graphiql_off_a_browser_gets_json() -> None:
    response = client_for(graphiql=False).get(
        "/graphql", params={"query": "{ hello }"}, headers={"accept": "text/html"})
    assert response.json() == {"data": {"hello": "hello world"}}


def test_the_response_is_json_encoded_by_orjson(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ items(first: 3) { id } }"})
    assert response.content == orjson.dumps({"data": {"items": [{"id": 0}, {"id": 1}, {"id": 2}]}})
