"""A GraphQL client for tests: the documented operations, over any httpx-like client."""

from __future__ import annotations

import json
from pathlib import Path


OPERATIONS_DIR = Path(__file__).resolve().parents[2] / "graphql" / "operations"


def operation(name: str) -> str:
    """The text of a documented operation, graphql/operations/<name>.graphql."""
    return (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")


class GraphQLTestClient:
    """Calls /graphql with documented operations, as a person's client would."""

    def __init__(self, http) -> None:
        self.http = http
        self.token: str | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(self, name: str, /, **variables: object) -> dict:
        """Run a documented operation; returns the whole JSON response."""
        response = self.http.post("/graphql", json={"query": operation(name), "variables": variables},
                                  headers=self.headers())
        return response.json()

    def data(self, name: str, /, **variables: object) -> dict:
        """Run an operation that must not fail at the top level; returns ``data``."""
        body = self.call(name, **variables)
        assert "errors" not in body, body
        return body["data"]

    def upload(self, asset_id: str, content: bytes, filename: str = "rows.csv", **variables: object):
        """Upload a version as a GraphQL multipart request; returns the HTTP response."""
        operations = {"query": operation("UploadVersion"),
                      "variables": {"assetId": asset_id, "file": None, **variables}}
        return self.http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (filename, content, "text/csv")},
            headers={**self.headers(), "GraphQL-Preflight": "1"})

    def login(self, username: str, password: str = "luan-demo-2026") -> None:
        self.token = None
        payload = self.data("Login", username=username, password=password)["login"]
        assert payload["errors"] == [], payload
        self.token = payload["token"]
