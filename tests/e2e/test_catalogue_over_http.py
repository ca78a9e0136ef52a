"""The catalogue through a real server process: what the demo serves, and an asset's whole way from
registration to the public catalogue — over HTTP, with the multipart upload a client sends."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e

SEARCH = """query Search($search: String, $category: Category, $first: Int, $after: String, $status: [AssetStatus!]) {
  catalogue(search: $search, category: $category, first: $first, after: $after, status: $status) {
    totalCount pageInfo { endCursor hasNextPage }
    nodes { id resourceCode name status department { name } currentVersion { number rowCount } }
  }
}"""

REGISTER = """mutation Register($metadata: AssetMetadataInput!) {
  registerAsset(metadata: $metadata) { asset { id resourceCode status department { name } } errors { field message code } }
}"""

LOGIN = """mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { token errors { field message code } }
}"""

UPLOAD = """mutation Upload($assetId: ID!, $file: Upload!) {
  uploadVersion(assetId: $assetId, file: $file) {
    version { number rowCount encoding columns { name type } }
    errors { field message code }
  }
}"""

SUBMIT = """mutation Submit($assetId: ID!, $version: Int!) {
  submitForReview(assetId: $assetId, version: $version) { asset { status } errors { field message code } }
}"""

APPROVE = """mutation Approve($assetId: ID!, $reason: String!) {
  approveAsset(assetId: $assetId, reason: $reason) { asset { status } errors { field message code } }
}"""

PUBLISH = """mutation Publish($assetId: ID!, $version: Int!) {
  publishAsset(assetId: $assetId, version: $version) {
    asset { status currentVersion { number rowCount } } errors { field message code }
  }
}"""

CHARGERS = [("CD0001", "六安市政务中心充电站", "116.5078", "31.7529"),
            ("CD0002", "皖西学院充电站", "116.4862", "31.7760"),
            ("CD0003", "六安火车站充电站", "116.5421", "31.7350"),
            ("CD0004", "万达广场充电站", "116.5203", "31.7418")]


def charger_metadata(name: str) -> dict:
    def item(column: str, data_type: str, key: bool = False) -> dict:
        return {"name": column, "dataType": data_type, "description": "", "sensitivity": "NONE",
                "key": key}

    return {
        "name": name,
        "classification": {"classCode": "THEME", "itemCode": "08", "catalogCode": "002",
                           "detailCode": ""},
        "abstract": "六安市城区公共充电站编号、名称与经纬度。",
        "format": "CSV",
        "category": "TRANSPORT",
        "informationItems": [item("充电站编号", "STRING", key=True), item("充电站名称", "STRING"),
                             item("经度", "DECIMAL"), item("纬度", "DECIMAL")],
        "sharing": {"type": "UNCONDITIONAL", "condition": "", "mode": "接口", "legalBasis": ""},
        "opening": {"type": "UNCONDITIONAL", "condition": "", "legalBasis": ""},
        "updateCycle": "MONTHLY",
        "securityLevel": 1,
        "relatedCodes": [],
        "keywords": ["充电站", "新能源"],
    }


def charger_csv() -> bytes:
    lines = ["充电站编号,充电站名称,经度,纬度"] + [",".join(row) for row in CHARGERS]
    return ("\n".join(lines) + "\n").encode("utf-8")


def payload_of(api: "Api", query: str, variables: dict) -> dict:
    (payload,) = api.data(query, variables).values()
    assert payload["errors"] == [], payload
    return payload


def test_the_server_answers_health_and_serves_the_home_page(demo_server: "Server") -> None:
    health = httpx.get(f"{demo_server.base_url}/healthz").json()
    assert health["status"] == "ok" and health["events"] > 0
    home = httpx.get(f"{demo_server.base_url}/")
    assert home.status_code == 200 and "text/html" in home.headers["content-type"]


def test_the_demo_lists_departments_and_published_assets(demo_api: "Api") -> None:
    departments = demo_api.data("{ departments { id name code } }")["departments"]
    names = {d["name"] for d in departments}
    assert len(departments) == 8 and "六安市市场监督管理局" in names
    assert all(len(d["code"]) == 18 for d in departments)

    page = demo_api.data(SEARCH, {"first": 100})["catalogue"]
    assert page["totalCount"] >= 10
    assert all(n["status"] == "PUBLISHED" and n["currentVersion"]["rowCount"] > 0
               for n in page["nodes"])


def test_keyset_pages_cover_the_catalogue_once(demo_api: "Api") -> None:
    seen, after = [], None
    while True:
        page = demo_api.data(SEARCH, {"first": 4, "after": after})["catalogue"]
        seen += [n["resourceCode"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]


def test_a_search_for_enterprise_finds_the_enterprise_registry(demo_api: "Api") -> None:
    nodes = demo_api.data(SEARCH, {"search": "企业", "category": "ENTERPRISE"})["catalogue"]["nodes"]
    registry = next(n for n in nodes if n["name"] == "六安市企业登记信息")
    assert registry["department"]["name"] == "六安市市场监督管理局"
    assert registry["currentVersion"]["rowCount"] == 2000  # databank demo --enterprise-rows 2000


def test_an_asset_goes_from_registration_to_an_anonymous_search(demo_server: "Server",
                                                                 connect) -> None:
    name = f"六安市公共充电站-{uuid.uuid4().hex[:6]}"
    publisher, reviewer, anonymous = (connect(demo_server.base_url) for _ in range(3))
    publisher.login("pub-natural-resources")
    registered = payload_of(publisher, REGISTER, {"metadata": charger_metadata(name)})["asset"]
    asset_id = registered["id"]
    assert registered["status"] == "DRAFT"
    assert registered["resourceCode"].startswith("208002/")
    assert registered["department"]["name"] == "六安市自然资源和规划局"

    # The GraphQL multipart request, as any client library sends it.
    operations = {"query": UPLOAD, "variables": {"assetId": asset_id, "file": None}}
    response = publisher.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("chargers.csv", charger_csv(), "text/csv")},
        headers={**publisher.headers(), "GraphQL-Preflight": "1"})
    assert response.status_code == 200, response.text
    upload = response.json()["data"]["uploadVersion"]
    assert upload["errors"] == [], upload
    assert upload["version"]["number"] == 1 and upload["version"]["rowCount"] == len(CHARGERS)
    assert [c["name"] for c in upload["version"]["columns"]] == ["充电站编号", "充电站名称",
                                                                 "经度", "纬度"]

    # Anonymous people do not see the draft.
    assert anonymous.data(SEARCH, {"search": name})["catalogue"]["nodes"] == []

    assert payload_of(publisher, SUBMIT, {"assetId": asset_id, "version": 1}
                      )["asset"]["status"] == "SUBMITTED"
    reviewer.login("reviewer")
    assert payload_of(reviewer, APPROVE, {"assetId": asset_id, "reason": "公共设施位置，无个人信息"}
                      )["asset"]["status"] == "APPROVED"
    published = payload_of(publisher, PUBLISH, {"assetId": asset_id, "version": 1})["asset"]
    assert published["status"] == "PUBLISHED"
    assert published["currentVersion"] == {"number": 1, "rowCount": len(CHARGERS)}

    nodes = anonymous.data(SEARCH, {"search": "充电站"})["catalogue"]["nodes"]
    assert [(n["name"], n["currentVersion"]["rowCount"]) for n in nodes
            if n["id"] == asset_id] == [(name, len(CHARGERS))]


def test_a_multipart_request_without_the_preflight_header_is_refused(demo_server: "Server") -> None:
    operations = {"query": UPLOAD, "variables": {"assetId": "x", "file": None}}
    response = httpx.post(
        f"{demo_server.base_url}/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("rows.csv", charger_csv(), "text/csv")})
    assert response.status_code == 400
    assert "GraphQL-Preflight" in response.json()["errors"][0]["message"]


def test_a_mutation_needs_a_login(demo_api: "Api") -> None:
    body = demo_api.post(REGISTER, {"metadata": charger_metadata("未登录")}).json()
    assert body["data"]["registerAsset"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_wrong_password_is_a_payload_error(demo_api: "Api") -> None:
    payload = demo_api.data(LOGIN, {"username": "admin", "password": "wrong-password"})["login"]
    assert payload["token"] is None
    assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIALS"]


def test_an_empty_store_serves_an_empty_catalogue(bare_server: "Server", connect) -> None:
    api = connect(bare_server.base_url)
    assert api.data("{ departments { id } }") == {"departments": []}
    assert api.data(SEARCH, {})["catalogue"]["totalCount"] == 0
    assert api.data("{ viewer { role } }") == {"viewer": {"role": "ANONYMOUS"}}
