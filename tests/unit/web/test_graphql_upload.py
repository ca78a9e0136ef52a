"""File uploads through /graphql (the GraphQL multipart request spec), their limit and CSRF rule."""

from __future__ import annotations

import asyncio
from typing import Any

import graphene
import orjson
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.api.scalars import Upload
from marketplace.web.graphql_endpoint import GraphQLEndpoint
from support.endpoint_context import PlainContext

received: list[Any] = []


class Query(graphene.ObjectType):
    hello = graphene.String()


class Mutation(graphene.ObjectType):
    upload = graphene.Int(file=Upload(required=True), description="The byte count of a file.")
    upload_many = graphene.List(graphene.String, files=graphene.List(Upload, required=True))

    @staticmethod
    def resolve_upload(root: Any, info: Any, file: Any) -> int:
        received.append(file)
        size = 0
        while chunk := file.file.read(65536):
            size += len(chunk)
        return size

    @staticmethod
    def resolve_upload_many(root: Any, info: Any, files: list) -> list[str]:
        return [f"{f.filename}:{len(f.file.read())}" for f in files]


SCHEMA = graphene.Schema(query=Query, mutation=Mutation).graphql_schema
LIMIT = 2 * 2**20
UPLOAD_ONE = "mutation($file: Upload!) { upload(file: $file) }"
PREFLIGHT = {"GraphQL-Preflight": "1"}


async def context_factory(request: Any) -> PlainContext:
    return PlainContext()


@pytest.fixture
def endpoint() -> GraphQLEndpoint:
    received.clear()
    return GraphQLEndpoint(SCHEMA, context_factory=context_factory, max_upload_bytes=LIMIT)


@pytest.fixture
def client(endpoint: GraphQLEndpoint) -> TestClient:
    return TestClient(Starlette(routes=[endpoint.route()]))


def form(query: str = UPLOAD_ONE, variables: Any = None, mapping: Any = None) -> dict[str, str]:
    return {"operations": orjson.dumps({"query": query,
                                        "variables": variables or {"file": None}}).decode(),
            "map": orjson.dumps(mapping or {"0": ["variables.file"]}).decode()}


def multipart_body(content: bytes, boundary: str = "b0undary") -> tuple[bytes, bytes]:
    fields = form()
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.csv"\r\n'
                 f"Content-Type: text/csv\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}".encode()


def call_asgi(app: Any, body: bytes, content_type: bytes, *, content_length: int | None,
              chunk: int = 65536) -> tuple[int, dict, bytes, int]:
    """Drives the ASGI app directly, so Content-Length can lie or be absent (chunked upload).
    Returns status, headers, body and how many body bytes the app pulled."""
    headers = [(b"content-type", content_type), (b"graphql-preflight", b"1")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {"type": "http", "method": "POST", "path": "/graphql", "raw_path": b"/graphql",
             "query_string": b"", "headers": headers, "http_version": "1.1", "scheme": "http",
             "server": ("test", 80), "client": ("test", 1234), "root_path": ""}
    chunks = [body[i:i + chunk] for i in range(0, len(body), chunk)]
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        if not chunks:
            return {"type": "http.disconnect"}
        piece = chunks.pop(0)
        pulled += len(piece)
        return {"type": "http.request", "body": piece, "more_body": bool(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    response_body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), response_body, pulled


# --- uploads that work ------------------------------------------------------------------------


def test_a_file_uploaded_with_a_mutation_reaches_the_resolver(client: TestClient) -> None:
    content = b"id,name\n" + b"1,Lu'an\n" * 200_000  # 1.6 MB: spooled to disk, not memory
    response = client.post("/graphql", data=form(), headers=PREFLIGHT,
                           files={"0": ("towns.csv", content, "text/csv")})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"upload": len(content)}}
    [upload] = received
    assert (upload.filename, upload.content_type) == ("towns.csv", "text/csv")
    assert upload.file.closed  # closed once the response is built


def test_one_file_can_fill_several_variables_and_lists_take_many(client: TestClient) -> None:
    response = client.post(
        "/graphql", headers=PREFLIGHT,
        data=form("mutation($files: [Upload]!) { uploadMany(files: $files) }",
                  {"files": [None, None]},
                  {"a": ["variables.files.0"], "b": ["variables.files.1"]}),
        files=[("a", ("a.txt", b"aaa")), ("b", ("b.txt", b"bbbbb"))])
    assert response.json() == {"data": {"uploadMany": ["a.txt:3", "b.txt:5"]}}


# --- limits ---------------------------------------------------------------------------------


def test_an_upload_whose_content_length_is_over_the_limit_is_refused_unread(
        endpoint: GraphQLEndpoint) -> None:
    body, content_type = multipart_body(b"x" * (LIMIT + 1))
    status, headers, response, pulled = call_asgi(endpoint, body, content_type,
                                                  content_length=len(body))
    assert status == 413
    assert pulled == 0
    assert orjson.loads(response)["errors"][0] == {
        "message": "The request body is larger than the limit of 2 MB.",
        "extensions": {"code": "PAYLOAD_TOO_LARGE", "limitBytes": LIMIT}}
    assert received == []


def test_an_upload_whose_content_length_lies_is_stopped_once_past_the_limit(
        endpoint: GraphQLEndpoint) -> None:
    body, content_type = multipart_body(b"x" * (3 * LIMIT))
    status, _, response, pulled = call_asgi(endpoint, body, content_type, content_length=1000)
    assert status == 413
    assert orjson.loads(response)["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert LIMIT < pulled <= LIMIT + 65536  # stopped at the first chunk past the limit
    assert received == []


def test_a_chunked_upload_without_content_length_is_stopped_once_past_the_limit(
        endpoint: GraphQLEndpoint) -> None:
    body, content_type = multipart_body(b"x" * (3 * LIMIT))
    status, _, _, pulled = call_asgi(endpoint, body, content_type, content_length=None)
    assert status == 413
    assert pulled <= LIMIT + 65536


def test_an_upload_just_under_the_limit_is_accepted(endpoint: GraphQLEndpoint) -> None:
    overhead = len(multipart_body(b"")[0])
    body, content_type = multipart_body(b"x" * (LIMIT - overhead))
    status, _, response, _ = call_asgi(endpoint, body, content_type, content_length=None)
    assert status == 200
    assert orjson.loads(response) == {"data": {"upload": LIMIT - overhead}}


# --- refusals -------------------------------------------------------------------------------


def test_a_multipart_request_without_a_preflight_header_is_refused(client: TestClient) -> None:
    response = client.post("/graphql", data=form(), files={"0": ("a.txt", b"abc")})
    assert response.status_code == 400
    assert "GraphQL-Preflight" in response.json()["errors"][0]["message"]
    assert received == []


def test_the_apollo_preflight_header_is_accepted_too(client: TestClient) -> None:
    response = client.post("/graphql", data=form(), files={"0": ("a.txt", b"abc")},
                           headers={"Apollo-Require-Preflight": "true"})
    assert response.json() == {"data": {"upload": 3}}


@pytest.mark.parametrize("fields, message", [
    ({"map": '{"0": ["variables.file"]}'}, "needs the 'operations' field"),
    ({"operations": '{"query": "mutation { upload }"'}, "'operations' field is not valid JSON"),
    ({"operations": '[{"query": "{ hello }"}]', "map": "{}"}, "batched operations"),
    ({**form(), "map": '{"9": ["variables.file"]}'}, "no file under that name"),
    ({**form(), "map": '{"0": ["query"]}'}, "must point into 'variables'"),
])
def test_a_multipart_request_off_the_spec_is_a_bad_request(client: TestClient, fields: dict,
                                                           message: str) -> None:
    response = client.post("/graphql", data=fields, files={"0": ("a.txt", b"abc")},
                           headers=PREFLIGHT)
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_an_upload_variable_without_a_file_is_bad_user_input(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": UPLOAD_ONE, "variables": {"file": "x"}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
