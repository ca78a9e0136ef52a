"""The filter oracle and the readable cursor, tried against a real ``databank serve`` as the
issue's attacker did (issue 9): anonymously, over HTTP, on the demo's enterprise registry whose
联系电话 is masked. Both are closed, and the sealed cursors survive a restart (the key lives in
the data directory, so every worker of a deployment shares it)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from support.api import operation

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = "联系电话"


def _rows(api, asset: str, **variables: object):
    return api.post(operation("Rows"), {"assetId": asset, **variables})


def _refusal(response) -> dict:
    body = response.json()
    assert body["data"] is None, body
    return body["errors"][0]


def test_masked_phones_are_neither_an_oracle_nor_in_the_cursors_over_http(launcher, connect,
                                                                          tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    launcher.cli(data_dir, "demo", "--enterprise-rows", "2000", timeout=180)
    server = launcher.serve(data_dir, demo=True)
    api = connect(server.base_url)  # anonymous, as the attacker was
    found = api.data(operation("SearchCatalogue"), {"search": "企业登记信息", "category": "ENTERPRISE"})
    asset = next(n for n in found["catalogue"]["nodes"] if n["name"] == "六安市企业登记信息")["id"]

    page = _rows(api, asset, first=3).json()["data"]["rows"]
    assert PHONE in page["maskedColumns"] and "****" in page["rows"][0][PHONE]
    phone_prefix = page["rows"][0][PHONE][:3]

    # The oracle: every way of asking about the masked phone is refused, naming column and tier.
    for where in ({PHONE: phone_prefix + "00000000"}, {PHONE: {"in": [phone_prefix + "00000000"] * 2}},
                  {PHONE: {"gte": phone_prefix, "lt": phone_prefix + "5"}}, {PHONE: {"contains": "0"}}):
        error = _refusal(_rows(api, asset, where=where, first=1))
        assert error["extensions"]["code"] == "FORBIDDEN" and error["extensions"]["field"] == "where"
        assert error["message"] == f'cannot filter on "{PHONE}": it is masked under your licence tier (masked)'
    error = _refusal(_rows(api, asset, orderBy=PHONE, first=1))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("FORBIDDEN", "orderBy")

    # The cursor: opaque, and it pages on.
    first = _rows(api, asset, orderBy="注册资本", first=50).json()["data"]["rows"]
    cursor = first["pageInfo"]["endCursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert "注册资本".encode() not in raw and str(first["rows"][-1]["注册资本"]).encode() not in raw
    second = _rows(api, asset, orderBy="注册资本", first=50, after=cursor).json()["data"]["rows"]
    assert not {r["统一社会信用代码"] for r in first["rows"]} & {r["统一社会信用代码"] for r in second["rows"]}

    # A tampered cursor, the old readable form, and a row id past 2^63 are bad input, not 500s.
    tampered = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    plain = base64.urlsafe_b64encode(json.dumps(["注册资本", False, "1", 2**63]).encode()).decode()
    for bad in (tampered, plain, cursor[:-3]):
        response = _rows(api, asset, orderBy="注册资本", first=50, after=bad)
        assert response.status_code == 200
        error = _refusal(response)
        assert (error["extensions"]["code"], error["message"]) == ("BAD_USER_INPUT", "the cursor is not valid")
    # Replayed on another query: refused too.
    error = _refusal(_rows(api, asset, orderBy="注册资本", descending=True, first=50, after=cursor))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"

    # A restarted server (the same data directory: the same key) follows the cursor.
    server.stop()
    again = launcher.serve(data_dir, demo=True)
    resumed = _rows(connect(again.base_url), asset, orderBy="注册资本", first=50, after=cursor)
    assert resumed.json()["data"]["rows"]["rows"] == second["rows"]
