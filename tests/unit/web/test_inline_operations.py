"""Which operations run on the event loop: only pages of rows in row order, which cannot scan.

Anything that may scan (a filter, a sort), write, or reach another store must take the worker
thread, or one slow request stalls every other; a page in row order stays on the loop, where it
is twice as fast (docs/decisions.md).
"""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse

from marketplace.web.graphql_endpoint import runs_inline

INDEXED = {"所属区县", "成立日期", "district"}


def served_by_index(asset_id: object, where: object, order_by: object) -> bool:
    """A stand-in for the access path's rule (tests/unit/datastore tests the real one)."""
    columns = set(where) if isinstance(where, dict) else set()
    return asset_id == "x" and columns <= INDEXED and (order_by is None or order_by in INDEXED)


def operation(text: str) -> OperationDefinitionNode:
    (node,) = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    return node


ROWS = ("query Rows($a: ID!, $w: GenericScalar, $o: String, $c: String) { "
        "rows(assetId: $a, where: $w, orderBy: $o, after: $c, first: 100) { rows } }")


@pytest.mark.parametrize("text, variables", [
    ('{ rows(assetId: "x") { rows } }', {}),
    ('{ rows(assetId: "x", first: 100, after: "c") { rows } __typename }', {}),
    ('{ rows(assetId: "x", where: null) { rows } }', {}),
    (ROWS, {"a": "x", "c": "cursor"}),
    (ROWS, {"a": "x", "w": None, "o": None}),
    ('{ a: rows(assetId: "x") { rows } b: rows(assetId: "y") { rows } }', {}),
])
def test_pages_in_row_order_run_on_the_loop(text: str, variables: dict) -> None:
    assert runs_inline(operation(text), variables)


@pytest.mark.parametrize("text, variables", [
    ('{ rows(assetId: "x", where: {a: 1}) { rows } }', {}),
    ('{ rows(assetId: "x", orderBy: "a") { rows } }', {}),
    (ROWS, {"a": "x", "w": {"成立日期": {"gte": "2025-12-30"}}}),
    (ROWS, {"a": "x", "o": "注册资本"}),
    ('{ rows(assetId: "x") { rows } catalogue { totalCount } }', {}),
    ('{ ...F } fragment F on Query { rows(assetId: "x") { rows } }', {}),
    ('mutation { login(username: "a", password: "b") { token } }', {}),
    ('{ catalogue { totalCount } }', {}),
])
def test_anything_that_may_scan_write_or_reach_another_store_takes_a_thread(
        text: str, variables: dict) -> None:
    assert not runs_inline(operation(text), variables)


@pytest.mark.parametrize("variables, inline", [
    ({"a": "x", "w": {"所属区县": "霍山县"}}, True),
    ({"a": "x", "o": "成立日期"}, True),
    ({"a": "x", "w": {"注册资本": {"gte": 5000}}}, False),
    ({"a": "x", "w": {"所属区县": "霍山县"}, "o": "注册资本"}, False),
    ({"a": "another", "w": {"所属区县": "霍山县"}}, False),
])
def test_filters_and_sorts_an_index_serves_run_on_the_loop(variables: dict, inline: bool) -> None:
    assert runs_inline(operation(ROWS), variables, served_by_index) is inline


def test_a_literal_where_is_not_looked_into() -> None:
    text = '{ rows(assetId: "x", where: {district: "霍山县"}) { rows } }'
    assert not runs_inline(operation(text), {}, served_by_index)
