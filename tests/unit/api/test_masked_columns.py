"""The masked tier is a promise, not a display filter (issue 9, items 2 and 3): a column the
caller's tier masks or drops cannot be filtered on (every operator), sorted by, or read out of a
cursor; cursors are sealed, bound to their query, and a tampered one is BAD_USER_INPUT."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import orjson
import pytest

from domain.actors import ANONYMOUS
from marketplace.datastore.query import encode_cursor
from marketplace.services.access import Caller, cursor_binding
from support.people import ID_NUMBER, PHONE, People, people_world, phone_of


@pytest.fixture
def world() -> Iterator[People]:
    yield from people_world(rows=300)


def _error(response) -> dict:
    body = response.json()
    assert body.get("data") is None, body
    return body["errors"][0]


# ---- the filter oracle: each way of guessing a masked value -----------------------------------

GUESSES = [
    pytest.param({PHONE: phone_of(7)}, id="eq guess"),
    pytest.param({PHONE: {"eq": phone_of(7)}}, id="eq operator"),
    pytest.param({PHONE: {"ne": phone_of(7)}}, id="ne"),
    pytest.param({PHONE: {"in": [phone_of(i) for i in range(1, 151)]}}, id="in bisection"),
    pytest.param({PHONE: {"gte": "13800000000", "lt": "13800000150"}}, id="gte/lt range"),
    pytest.param({PHONE: {"lte": "13800000007"}}, id="lte"),
    pytest.param({PHONE: {"gt": "13800000006"}}, id="gt"),
    pytest.param({PHONE: {"contains": "0007"}}, id="contains"),
    pytest.param({"行业": "制造业", PHONE: {"gte": "138"}}, id="beside a visible filter"),
]


@pytest.mark.parametrize("where", GUESSES)
@pytest.mark.parametrize("who", ["masked", "anonymous"])
def test_no_operator_may_filter_on_a_masked_column(world: People, where: dict, who: str) -> None:
    key = world.keys["masked"] if who == "masked" else None
    response = world.rows(key, where=where, first=10)
    error = _error(response)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["field"] == "where" and error["extensions"]["column"] == PHONE
    assert error["message"] == f'cannot filter on "{PHONE}": it is masked under your licence tier (masked)'
    assert error["path"] == ["rows"]


def test_a_phone_cannot_be_recovered_by_bisection_in_requests(world: People) -> None:
    """The attack of the issue: halve the candidate set with ``in`` until one phone is left.
    It would take ~9 requests for 300 rows; the first is refused and nothing is learnt."""
    candidates = [phone_of(i) for i in range(1, 301)]
    answers = []
    while len(candidates) > 1:
        half = candidates[: len(candidates) // 2]
        body = world.rows(world.keys["masked"], where={"编号": "P000123", PHONE: {"in": half}},
                          first=1).json()
        answers.append(body)
        if body.get("data") is None:
            break
        candidates = half if body["data"]["rows"]["rows"] else candidates[len(half):]
    assert len(answers) == 1 and answers[0]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert world.usage()["rows"] == 0


@pytest.mark.parametrize("where", [{ID_NUMBER: "341502199001010007"},
                                   {ID_NUMBER: {"contains": "0101"}},
                                   {ID_NUMBER: {"gte": "3"}}])
def test_a_dropped_column_cannot_be_filtered_on_either(world: People, where: dict) -> None:
    error = _error(world.rows(world.keys["masked"], where=where))
    assert error["extensions"]["code"] == "FORBIDDEN" and error["extensions"]["field"] == "where"
    assert error["message"] == (f'cannot filter on "{ID_NUMBER}": it is not part of your '
                                "licence tier (masked)")


@pytest.mark.parametrize("column", [PHONE, ID_NUMBER, "姓名"])
@pytest.mark.parametrize("who", ["masked", "anonymous"])
def test_no_masked_or_dropped_column_may_order_the_rows(world: People, column: str, who: str) -> None:
    key = world.keys["masked"] if who == "masked" else None
    for descending in (False, True):
        error = _error(world.rows(key, orderBy=column, descending=descending))
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["field"] == "orderBy" and error["extensions"]["column"] == column
        assert error["message"].startswith(f'cannot sort by "{column}": it is ')


def test_refusals_by_the_column_rule_use_no_quota(world: People) -> None:
    for where in ({PHONE: phone_of(1)}, {ID_NUMBER: "x"}):
        world.rows(world.keys["masked"], where=where)
    world.rows(world.keys["masked"], orderBy=PHONE)
    assert world.usage() == {**world.usage(), "rows": 0, "calls": 0}


def test_visible_columns_still_filter_and_sort_under_the_masked_tier(world: People) -> None:
    body = world.rows(world.keys["masked"], where={"行业": "制造业", "人数": {"gte": 5}},
                      orderBy="人数", descending=True, first=1000).json()
    rows = body["data"]["rows"]["rows"]
    assert rows and all(r["行业"] == "制造业" and r["人数"] >= 5 for r in rows)
    assert [r["人数"] for r in rows] == sorted((r["人数"] for r in rows), reverse=True)
    assert all(r[PHONE].startswith("138****") for r in rows) and ID_NUMBER not in rows[0]


def test_a_full_tier_may_filter_and_sort_on_the_same_columns(world: People) -> None:
    body = world.rows(world.keys["full"], where={PHONE: phone_of(7)}).json()
    assert [r["编号"] for r in body["data"]["rows"]["rows"]] == ["P000007"]
    body = world.rows(world.keys["full"], orderBy=ID_NUMBER, first=2).json()
    assert "errors" not in body


# ---- cursors ---------------------------------------------------------------------------------------

def _decoded(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def _walk(world: People, key: str | None, **variables: object) -> tuple[list[dict], list[str]]:
    rows, cursors, after = [], [], None
    while True:
        page = world.rows(key, first=37, after=after, **variables).json()["data"]["rows"]
        rows.extend(page["rows"])
        if not page["pageInfo"]["hasNextPage"]:
            return rows, cursors
        after = page["pageInfo"]["endCursor"]
        cursors.append(after)


@pytest.mark.parametrize("variables", [{}, {"orderBy": "行业"}, {"orderBy": "人数", "descending": True},
                                       {"where": {"行业": "餐饮业"}, "orderBy": "编号"}])
def test_cursors_page_through_every_row_once_and_read_as_nothing(world: People, variables: dict) -> None:
    rows, cursors = _walk(world, None, **variables)
    reference = world.rows(world.keys["full"], first=1000, **variables).json()["data"]["rows"]["rows"]
    assert [r["编号"] for r in rows] == [r["编号"] for r in reference]
    assert cursors
    for cursor in cursors:
        raw = _decoded(cursor)
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(raw)
        for text in ("P0", "行业", "制造业", "餐饮业", "138"):
            assert text.encode() not in raw


def test_the_same_position_never_gives_the_same_cursor_twice(world: People) -> None:
    first = world.rows(None, first=5).json()["data"]["rows"]["pageInfo"]["endCursor"]
    again = world.rows(None, first=5).json()["data"]["rows"]["pageInfo"]["endCursor"]
    assert first != again  # a fresh nonce each time: equal positions cannot be recognised


def _bad_cursor(world: People, cursor: object, **variables: object) -> None:
    before = world.usage()
    response = world.rows(world.keys["masked"], after=cursor, **variables)
    error = _error(response)
    assert response.status_code == 200
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["path"] == ["rows"]
    assert error["message"] == "the cursor is not valid"
    assert world.usage() == before  # a bad cursor costs nothing


def test_a_tampered_cursor_is_bad_user_input_at_every_position(world: People) -> None:
    cursor = world.rows(world.keys["masked"], first=5).json()["data"]["rows"]["pageInfo"]["endCursor"]
    raw = bytearray(_decoded(cursor))
    for position in range(0, len(raw), 7):
        forged = bytearray(raw)
        forged[position] ^= 0x01
        _bad_cursor(world, base64.urlsafe_b64encode(bytes(forged)).rstrip(b"=").decode())


@pytest.mark.parametrize("cursor", [
    "", "x", "!!!!", "游标", "A" * 5000, "AQ", "null",
    # the old, readable form: ["column", descending, value, row] in base64
    base64.urlsafe_b64encode(orjson.dumps([None, False, None, 3])).rstrip(b"=").decode(),
    base64.urlsafe_b64encode(orjson.dumps([None, False, None, 2**63])).rstrip(b"=").decode(),
])
def test_garbage_and_unsealed_cursors_are_bad_user_input(world: People, cursor: str) -> None:
    _bad_cursor(world, cursor)


def test_a_truncated_cursor_is_bad_user_input(world: People) -> None:
    cursor = world.rows(world.keys["masked"], first=5).json()["data"]["rows"]["pageInfo"]["endCursor"]
    for cut in (1, 2, len(cursor) // 2, len(cursor) - 1):
        _bad_cursor(world, cursor[:cut])


@pytest.mark.parametrize("replay", [{"orderBy": "人数"}, {"descending": True},
                                    {"where": {"行业": "制造业"}}, {"where": {"人数": {"gte": 0}}}])
def test_a_cursor_does_not_open_on_another_query(world: People, replay: dict) -> None:
    cursor = world.rows(world.keys["masked"], first=5).json()["data"]["rows"]["pageInfo"]["endCursor"]
    _bad_cursor(world, cursor, **replay)


def test_a_cursor_of_another_asset_does_not_open(world: People) -> None:
    # The other asset has a single row (no next page): its cursor is made with the real key.
    access = world.bank.row_access
    plan = access.plan_access(Caller(actor=ANONYMOUS), world.market.assets["unconditional"])
    cursor = access.cursors.seal(encode_cursor(None, False, None, 1), cursor_binding(plan, None, False))
    _bad_cursor(world, cursor)


@pytest.mark.parametrize("order_by, value, row", [
    (None, None, 2**63), (None, None, 2**64 + 5), (None, None, -1),
    ("人数", 2**63, 3), ("人数", -(2**63) - 1, 3), ("人数", 3.5, 3), ("人数", True, 3),
])
def test_a_genuinely_sealed_cursor_with_an_impossible_position_is_bad_user_input(
        world: People, order_by: str | None, value: object, row: int) -> None:
    """Made with the bank's own key, as if the key had leaked or the sealing were skipped:
    a row id or integer sort value past 64 bits is refused, never a server error."""
    access = world.bank.row_access
    plan = access.plan_access(Caller(actor=ANONYMOUS), world.asset, order_by=order_by)
    # The datastore's own cursor form (json: orjson cannot even write a row id past 64 bits).
    inner = base64.urlsafe_b64encode(json.dumps([order_by, False, value, row]).encode()).decode()
    sealed = access.cursors.seal(inner, cursor_binding(plan, order_by, False))
    response = world.rows(None, after=sealed, **({"orderBy": order_by} if order_by else {}))
    error = _error(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "cursor" in error["message"]


def test_an_explicit_null_page_size_is_the_default_page_not_a_server_error(world: People) -> None:
    response = world.http.post("/graphql", json={
        "query": "query ($a: ID!) { rows(assetId: $a, first: null, descending: null, after: null) "
                 "{ rows } }", "variables": {"a": world.asset}})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert len(body["data"]["rows"]["rows"]) == 100
