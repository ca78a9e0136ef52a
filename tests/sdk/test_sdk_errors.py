"""The exception hierarchy is keyed by HTTP status and GraphQL ``extensions.code``."""

from __future__ import annotations

import httpx
import pytest

import databank
from databank.errors import error_class
from support.sdk_mock import Script, error, graphql


def test_bad_user_input_is_an_invalid_query_error_and_a_value_error() -> None:
    script = Script(error("BAD_USER_INPUT", "cannot filter on '血型': the asset has no such column"))
    with script.sync() as client, pytest.raises(ValueError) as raised:
        list(client.assets.rows("A", where={"血型": "A"}))
    assert isinstance(raised.value, databank.InvalidQueryError)
    assert isinstance(raised.value, databank.BadRequestError)
    assert "血型" in str(raised.value) and raised.value.code == "BAD_USER_INPUT"


@pytest.mark.parametrize("status, code, expected", [
    (401, "UNAUTHENTICATED", databank.AuthenticationError),
    (200, "UNAUTHENTICATED", databank.AuthenticationError),
    (200, "FORBIDDEN", databank.PermissionDeniedError),
    (403, None, databank.PermissionDeniedError),
    (404, None, databank.NotFoundError),
    (409, None, databank.ConflictError),
    (413, "PAYLOAD_TOO_LARGE", databank.BadRequestError),
    (429, "QUOTA_EXCEEDED", databank.QuotaExceededError),
    (429, "RATE_LIMITED", databank.RateLimitError),
    (500, None, databank.InternalServerError),
    (200, "INTERNAL_SERVER_ERROR", databank.InternalServerError),
    (418, None, databank.APIStatusError),
])
def test_each_status_and_code_maps_to_its_exception(status: int, code: str | None, expected) -> None:
    assert error_class(status, code) is expected


def test_every_exception_is_a_databank_error() -> None:
    for name in databank.__all__:
        value = getattr(databank, name)
        if isinstance(value, type) and name.endswith("Error") and name != "FieldError":
            assert issubclass(value, databank.DatabankError), name


def test_a_status_error_carries_status_body_code_and_request_id() -> None:
    script = Script(httpx.Response(403, headers={"X-Request-Id": "req-42"}, json={
        "errors": [{"message": "the key has no rows:read scope", "extensions": {"code": "FORBIDDEN"}}]}))
    with script.sync() as client, pytest.raises(databank.PermissionDeniedError) as raised:
        client.assets.rows_page("A")
    error_ = raised.value
    assert (error_.status_code, error_.code, error_.request_id) == (403, "FORBIDDEN", "req-42")
    assert error_.body["errors"][0]["message"] == "the key has no rows:read scope"
    assert str(error_) == "[403 FORBIDDEN] the key has no rows:read scope"


def test_a_non_json_error_page_is_still_a_status_error() -> None:
    script = Script(httpx.Response(404, text="<html>not found</html>"))
    with script.sync() as client, pytest.raises(databank.NotFoundError) as raised:
        client.viewer()
    assert raised.value.body == "<html>not found</html>"


def test_a_missing_asset_is_not_found() -> None:
    script = Script(graphql({"asset": None}))
    with script.sync() as client, pytest.raises(databank.NotFoundError):
        client.catalogue.get("no-such-asset")
    assert len(script.requests) == 1


def test_payload_errors_of_a_mutation_raise_mutation_error_with_the_errors() -> None:
    script = Script(graphql({"subscribe": {"subscription": None, "errors": [
        {"field": "acceptedTermsVersion", "message": "accept the current terms (version 2)",
         "code": "TERMS_NOT_ACCEPTED"}]}}))
    with script.sync() as client, pytest.raises(databank.MutationError) as raised:
        client.subscriptions.subscribe("P", accepted_terms_version=1)
    assert raised.value.codes == ["TERMS_NOT_ACCEPTED"]
    assert raised.value.errors[0].field == "acceptedTermsVersion"
    assert len(script.requests) == 1


def test_a_wrong_login_is_a_mutation_error() -> None:
    script = Script(graphql({"login": {"token": None, "viewer": None, "expiresAt": None, "errors": [
        {"field": None, "message": "wrong username or password", "code": "INVALID_CREDENTIALS"}]}}))
    with script.sync() as client, pytest.raises(databank.MutationError, match="INVALID_CREDENTIALS"):
        client.login("demo@startup.example", "wrong")
    assert client.token is None
