"""A PostgreSQL deployment: ``databank migrate`` once, then ``databank serve --workers 2``.

Writes go through one connection (one worker); reads come on a new connection each, so both
workers answer them, and every worker's read model must converge on the writes (how soon is
printed, not asserted: the followers poll every 200 ms).
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from support.waiting import DEADLINE_SECONDS

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PASSWORD = "luan-demo-2026"

LOGIN = """mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { token errors { code message } }
}"""
REGISTER = """mutation Register($metadata: AssetMetadataInput!) {
  registerAsset(metadata: $metadata) { asset { id resourceCode } errors { field message code } }
}"""
DRAFTS = """{ catalogue(status: [DRAFT], first: 50) { totalCount nodes { id } }
  viewer { role } departments { id } }"""


def _metadata(name: str, catalog_code: str) -> dict:
    return {
        "name": name,
        "classification": {"classCode": "DEPARTMENT", "itemCode": "01",
                           "catalogCode": catalog_code, "detailCode": ""},
        "abstract": f"{name}（多进程部署测试）。", "format": "CSV", "category": "OTHER",
        "informationItems": [{"name": "编号", "dataType": "STRING", "description": "",
                              "sensitivity": "NONE", "key": True}],
        "sharing": {"type": "UNCONDITIONAL", "condition": "", "mode": "接口", "legalBasis": ""},
        "opening": {"type": "UNCONDITIONAL", "condition": "", "legalBasis": ""},
        "updateCycle": "YEARLY", "securityLevel": 1, "relatedCodes": [], "keywords": [],
    }


def _seed_accounts(database_url: str, data_dir: Path) -> None:
    """An administrator, a department and its publisher — the accounts a real deployment opens
    before anyone can log in (``--no-demo`` starts with none)."""
    from domain.actors import Actor, Role
    from marketplace.bootstrap import build
    from marketplace.demo.departments import DEPARTMENTS
    from marketplace.settings import Settings

    bank = build(Settings(data_dir=data_dir, database_url=database_url), create_tables=False,
                 fast_hashing=True)
    try:
        admin = Actor("e2e-bootstrap", "部署管理员", Role.ADMIN)
        department = bank.catalogue.register_department(
            code=DEPARTMENTS[0]["code"], name=DEPARTMENTS[0]["name"], contact="", by=admin)
        bank.staff.open_account(username="pub-e2e", name="部署测试数据专员", role=Role.PUBLISHER,
                                password=PASSWORD, department_id=str(department.id), by=admin)
    finally:
        bank.close()


def _worker_count(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return len(children.read_text().split()) if children.exists() else -1


def test_two_workers_serve_the_same_catalogue(postgres_url: str, postgres_schema: str,
                                              launcher, tmp_path: Path) -> None:
    separator = "&" if "?" in postgres_url else "?"
    database_url = f"{postgres_url}{separator}schema={postgres_schema}"
    data_dir = tmp_path / "data"  # the signing keys, shared by both workers

    assert "tables are in place" in launcher.cli(data_dir, "migrate", database_url=database_url)
    _seed_accounts(database_url, tmp_path / "seeding")
    server = launcher.serve(data_dir, workers=2, database_url=database_url)
    if _worker_count(server.process.pid) != -1:  # Linux: the supervisor forked its workers
        assert _worker_count(server.process.pid) >= 2, server.output()

    # Writes: one client, one kept-alive connection.
    with httpx.Client(base_url=server.base_url, timeout=30.0) as writer:
        login = writer.post("/graphql", json={
            "query": LOGIN, "variables": {"username": "pub-e2e", "password": PASSWORD}}).json()
        token = login["data"]["login"]["token"]
        assert token, login
        auth = {"Authorization": f"Bearer {token}"}
        registered = []
        for number, name in enumerate(["部署测试资产甲", "部署测试资产乙", "部署测试资产丙"], 1):
            body = writer.post("/graphql", headers=auth, json={
                "query": REGISTER,
                "variables": {"metadata": _metadata(name, f"{number:03d}")}}).json()
            payload = body["data"]["registerAsset"]
            assert payload["errors"] == [], payload
            registered.append(payload["asset"]["id"])
    written_at = time.monotonic()

    # Reads: a new connection each (so the kernel hands them to either worker); every one must
    # succeed (the token verifies on both: they share the key directory), and the catalogue must
    # converge: after ~2 s, every request sees every registered asset.
    seen_all_in_a_row, answers = 0, []
    while seen_all_in_a_row < 12:
        response = httpx.post(f"{server.base_url}/graphql", json={"query": DRAFTS},
                              headers={**auth, "Connection": "close"}, timeout=10.0)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["viewer"]["role"] == "PUBLISHER"
        assert len(body["data"]["departments"]) == 1
        ids = {node["id"] for node in body["data"]["catalogue"]["nodes"]}
        answers.append(len(ids))
        if ids >= set(registered):
            seen_all_in_a_row += 1
        else:
            seen_all_in_a_row = 0
            assert time.monotonic() - written_at < DEADLINE_SECONDS, (
                f"a worker still misses assets {DEADLINE_SECONDS:.0f} s after the writes "
                f"(answers so far: {answers})\n{server.output()}")
        time.sleep(0.02)

    health = httpx.get(f"{server.base_url}/healthz").json()
    assert health["status"] == "ok" and health["events"] > 0
