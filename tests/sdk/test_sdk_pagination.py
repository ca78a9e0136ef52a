"""Auto-pagination follows keyset cursors, sizes pages to the limit and stops."""

from __future__ import annotations

import pytest

from support.sdk_mock import Script, graphql


def catalogue_page(codes: list[str], cursor: str | None, more: bool) -> dict:
    return {"catalogue": {"totalCount": 99, "pageInfo": {"endCursor": cursor, "hasNextPage": more},
                          "nodes": [{"id": c, "resourceCode": c, "name": f"资产{c}",
                                     "status": "PUBLISHED", "category": "ENTERPRISE",
                                     "department": {"id": "d", "name": "市场监管局"},
                                     "opening": {"type": "UNCONDITIONAL"},
                                     "currentVersion": {"number": 1, "rowCount": 10}}
                                    for c in codes]}}


def rows_page(values: list[int], cursor: str | None, more: bool) -> dict:
    return {"rows": {"rows": [{"n": v} for v in values], "columns": ["n"], "maskedColumns": [],
                     "version": 1, "pageInfo": {"endCursor": cursor, "hasNextPage": more}}}


def test_search_follows_the_cursors_until_the_last_page() -> None:
    script = Script(graphql(catalogue_page(["a", "b"], "c1", True)),
                    graphql(catalogue_page(["c"], "c2", True)),
                    graphql(catalogue_page([], None, False)))
    with script.sync() as client:
        found = [a.code for a in client.catalogue.search("企业", category="enterprise", page_size=2)]
    assert found == ["a", "b", "c"]
    variables = [b["variables"] for b in script.bodies()]
    assert [v.get("after") for v in variables] == [None, "c1", "c2"]
    assert variables[0] == {"search": "企业", "category": "ENTERPRISE", "first": 2}


def test_search_stops_when_the_server_says_there_is_no_next_page() -> None:
    script = Script(graphql(catalogue_page(["a"], "c1", False)))
    with script.sync() as client:
        assert [a.name for a in client.catalogue.search()] == ["资产a"]
    assert len(script.requests) == 1


def test_rows_ask_for_at_most_1000_a_page_and_only_what_the_limit_still_needs() -> None:
    script = Script(graphql(rows_page(list(range(1000)), "r1", True)),
                    graphql(rows_page(list(range(1000, 1500)), "r2", True)))
    with script.sync() as client:
        rows = client.assets.rows("A", where={"所属区县": "霍山县"}, limit=1500)
        assert len(list(rows)) == 1500
    variables = [b["variables"] for b in script.bodies()]
    assert [(v["first"], v.get("after")) for v in variables] == [(1000, None), (500, "r1")]
    assert variables[1]["where"] == {"所属区县": "霍山县"} and len(script.requests) == 2


def test_a_limit_is_never_exceeded_even_if_the_server_sends_more() -> None:
    script = Script(graphql(rows_page([1, 2, 3, 4], "r1", True)))
    with script.sync() as client:
        assert [r["n"] for r in client.assets.rows("A", limit=2, page_size=4)] == [1, 2]


def test_nothing_is_fetched_until_iteration_begins_and_a_limit_of_zero_fetches_nothing() -> None:
    script = Script()
    with script.sync() as client:
        rows = client.assets.rows("A")
        assert script.requests == []
        assert list(client.assets.rows("A", limit=0)) == []


def test_an_empty_page_ends_the_iteration_even_if_more_is_claimed() -> None:
    script = Script(graphql(rows_page([], "r1", True)))
    with script.sync() as client:
        assert list(client.assets.rows("A")) == []
    assert len(script.requests) == 1


def test_the_last_page_exposes_columns_and_quota() -> None:
    script = Script(graphql(rows_page([1], None, False),
                            extensions={"quota": {"rowsRemaining": 9, "rowsUsed": 1,
                                                  "resetAt": "2026-04-01T00:00:00+08:00"}}))
    with script.sync() as client:
        rows = client.assets.rows("A")
        list(rows)
    assert rows.last_page.columns == ["n"] and rows.last_page.quota.rows_remaining == 9
    assert rows.last_page.quota.reset_at.month == 4


@pytest.mark.parametrize("page_size", [0, 1001])
def test_a_page_size_outside_1_to_1000_is_a_value_error(page_size: int) -> None:
    with Script().sync() as client, pytest.raises(ValueError):
        client.assets.rows("A", page_size=page_size)


def test_where_must_be_a_mapping() -> None:
    with Script().sync() as client, pytest.raises(TypeError):
        client.assets.rows("A", where=["所属区县"])  # type: ignore[arg-type]


def test_to_pandas_names_the_extra_when_pandas_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # importing it now raises ImportError
    script = Script(graphql(rows_page([1], None, False)))
    with script.sync() as client, pytest.raises(ImportError, match=r"databank-sdk\[pandas\]"):
        client.assets.rows("A").to_pandas()
