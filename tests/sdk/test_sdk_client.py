"""What every request carries: the user agent, the credentials, the operation by name."""

from __future__ import annotations

import platform

import httpx
import pytest

import databank
from support.sdk_mock import Script, graphql

VIEWER = {"viewer": {"id": None, "name": None, "role": "ANONYMOUS", "departmentId": None,
                     "organisationId": None}}


def test_the_user_agent_names_the_sdk_python_and_httpx() -> None:
    script = Script(graphql(VIEWER))
    with script.sync() as client:
        client.viewer()
    python = ".".join(platform.python_version_tuple()[:2])
    assert script.requests[0].headers["User-Agent"] == (
        f"databank-sdk/{databank.__version__} python/{python} httpx/{httpx.__version__}")


def test_an_api_key_goes_in_x_api_key_and_a_token_as_bearer() -> None:
    script = Script(graphql(VIEWER), graphql(VIEWER))
    with script.sync(api_key="dbk_key") as keyed, script.sync(api_key=None, token="jwt") as logged:
        keyed.viewer()
        logged.viewer()
    assert script.requests[0].headers["X-API-Key"] == "dbk_key"
    assert "Authorization" not in script.requests[0].headers
    assert script.requests[1].headers["Authorization"] == "Bearer jwt"


def test_the_base_url_and_key_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABANK_URL", "http://bank.example:9000/")
    monkeypatch.setenv("DATABANK_API_KEY", "dbk_env")
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or graphql(VIEWER))
    with databank.Client(transport=transport) as client:
        client.viewer()
    assert str(seen[0].url) == "http://bank.example:9000/graphql"
    assert seen[0].headers["X-API-Key"] == "dbk_env"


def test_the_default_base_url_is_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABANK_URL", raising=False)
    with databank.Client("dbk_x") as client:
        assert client.base_url == "http://127.0.0.1:8000"


def test_requests_post_the_named_operation_and_drop_unset_variables() -> None:
    script = Script(graphql({"usage": []}))
    with script.sync() as client:
        client.usage.current()
    body = script.bodies()[0]
    assert body["operationName"] == "Usage" and body["query"].lstrip().startswith("#")
    assert body["variables"] == {}


def test_login_keeps_the_token_for_later_requests() -> None:
    login = {"login": {"token": "jwt-1", "expiresAt": None, "errors": [],
                       "viewer": {"id": "u", "name": "李明", "role": "MEMBER", "organisationId": "o"}}}
    script = Script(graphql(login), graphql(VIEWER))
    with script.sync(api_key=None) as client:
        viewer = client.login("demo@startup.example", "pw")
        client.viewer()
    assert viewer.organisation_id == "o"
    assert script.requests[1].headers["Authorization"] == "Bearer jwt-1"


def test_the_timeout_applies_to_each_request() -> None:
    script = Script(graphql(VIEWER))
    with script.sync(timeout=4.5) as client:
        client.viewer()
    assert script.requests[0].extensions["timeout"]["read"] == 4.5


def test_a_client_of_your_own_is_left_open() -> None:
    script = Script(graphql(VIEWER))
    http = httpx.Client(transport=httpx.MockTransport(script))
    with databank.Client("dbk_x", base_url="http://x", http_client=http) as client:
        client.viewer()
    assert not http.is_closed
    http.close()


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError):
        databank.Client("dbk_x", max_retries=-1)
