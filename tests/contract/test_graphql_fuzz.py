"""schemathesis against /graphql in process (issue 9): queries and mutations generated from the
schema, sent anonymously, with a publisher's token and with a member's API key. Whatever it
sends, the server never fails: no HTTP 5xx, and every error carries an ``extensions.code`` that
is not ``INTERNAL_SERVER_ERROR`` (an unexpected exception the endpoint masked).

Everything stays in the process (a Starlette TestClient over the ASGI app, a bank in memory), and
nothing is written into the repository: hypothesis keeps no example database, and its home
directory (caches) is a temporary one while this module runs. The budget keeps the run under a
minute on two cores.

schemathesis generates the requests (from the live schema's SDL, with strategies for our custom
scalars) and a TestClient sends them: its pytest loader for fixtures does not run on pytest 9
(it sets ``Function._nodeid``), and its ASGI transport owns the app's lifespan, which here is the
bank's (the bank must outlive the requests and close once).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.graphql import nodes
from starlette.testclient import TestClient

from marketplace.api.schema import schema as api_schema
from marketplace.api.schema import schema_sdl
from marketplace.bootstrap import build_in_memory
from marketplace.settings import Settings
from marketplace.web.app import create_app
from support.marketplace import PASSWORD, member_with_organisation, set_up_market

pytestmark = pytest.mark.slow

EXAMPLES = 20  # per operation and credential: the whole schema in about 35 s on two cores


def _generic() -> st.SearchStrategy[Any]:
    """``GenericScalar`` literals (``where``, ``itemOverrides``): JSON-like values whose keys
    are GraphQL names (a literal cannot spell a Chinese column name), operators among them."""
    names = st.sampled_from(["eq", "ne", "lt", "gte", "in", "contains", "near", "id", "x", "_row"])
    leaves = st.one_of(st.integers(-2**70, 2**70).map(nodes.Int), st.text(max_size=20).map(nodes.String),
                       st.booleans().map(nodes.Boolean), st.just(nodes.Null),
                       st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(nodes.List),
        st.dictionaries(names, inner, max_size=3).map(lambda d: nodes.Object(
            [graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in d.items()]))),
        max_leaves=8)


# A JSON request cannot carry a file: whatever stands in for one must be refused cleanly.
schemathesis.graphql.scalar("Upload", st.one_of(st.text(max_size=10).map(nodes.String),
                                                st.just(nodes.Null)))
schemathesis.graphql.scalar("GenericScalar", _generic())


@dataclass
class Fuzz:
    """The operations schemathesis generates from, the app they go to, and who sends them."""

    operations: dict[str, Any]  # "Query.rows" → schemathesis's APIOperation
    http: TestClient
    credentials: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    # hypothesis keeps caches (constants found in the code) under its home directory, ./.hypothesis
    # by default: point it at a temporary directory while this module runs
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    try:
        yield from _fuzz()
    finally:
        set_hypothesis_home_dir(None)


def _fuzz() -> Iterator[Fuzz]:
    bank = build_in_memory(Settings(escalation_interval_seconds=0))
    market = set_up_market(bank)
    publisher = bank.staff.open_account(username="pub1", name="交通局数据专员", role=market.publisher.role,
                                        password=PASSWORD, department_id=market.publisher.department_id,
                                        by=None).actor()
    member, organisation = member_with_organisation(bank)
    bank.subscriptions.subscribe(organisation, market.plans["unconditional"], accepted_terms_version=1,
                               by=member)
    _, key = bank.api_keys.create_api_key(
        organisation, name="fuzz", scopes=["catalogue:read", "rows:read", "exports:read", "usage:read"],
        by=member)
    bank.catalogue_follower.catch_up()
    bank.entitlements_follower.catch_up()
    token, _ = bank.tokens.issue(subject=publisher.user_id, name=publisher.name,
                                 role=publisher.role.value, department_id=publisher.department_id)
    loaded = schemathesis.graphql.from_file(schema_sdl())
    operations = {op.label: op for op in (result.ok() for result in loaded.get_all_operations())}
    with TestClient(create_app(bank)) as http:
        yield Fuzz(operations, http, {"anonymous": {},
                                      "publisher token": {"Authorization": f"Bearer {token}"},
                                      "API key": {"X-API-Key": key}})


def server_failures(response: Any) -> list[str]:
    """What makes an answer a server failure (empty: none)."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:500]}"]
    try:
        body = response.json()
    except ValueError:
        return [f"not JSON (HTTP {response.status_code}): {response.text[:500]}"]
    failures = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None or code == "INTERNAL_SERVER_ERROR":
            failures.append(f"error {code}: {error}")
    return failures


ROOT_FIELDS = [f"{kind.name}.{name}" for kind in (api_schema.graphql_schema.query_type,
                                                   api_schema.graphql_schema.mutation_type)
               for name in kind.fields]


@pytest.mark.parametrize("label", ROOT_FIELDS)
def test_no_request_makes_a_server_error(fuzz: Fuzz, label: str) -> None:
    @given(case=fuzz.operations[label].as_strategy())
    @settings(max_examples=EXAMPLES, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def no_server_error(case: Any) -> None:
        for who, headers in fuzz.credentials.items():
            response = fuzz.http.post("/graphql", json={"query": case.body}, headers=headers)
            failures = server_failures(response)
            assert not failures, f"as {who}: {case.body!r} → {failures}"

    no_server_error()
