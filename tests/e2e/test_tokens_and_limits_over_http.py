"""Tokens and GraphQL limits through a real server process: what a client sees over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import jwt
import pytest

from marketplace.identity import KeyRing, TokenService
from marketplace.identity.tokens import DEFAULT_AUDIENCE

pytestmark = pytest.mark.e2e

VIEWER = "{ viewer { id name role departmentId } }"
LOGIN = """mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { token expiresAt errors { code } }
}"""


def _login_token(base_url: str, username: str = "pub-market-regulation") -> str:
    response = httpx.post(f"{base_url}/graphql", json={
        "query": LOGIN, "variables": {"username": username, "password": "luan-demo-2026"}})
    payload = response.json()["data"]["login"]
    assert payload["errors"] == [], payload
    return payload["token"]


def _viewer_with(base_url: str, token: str) -> httpx.Response:
    return httpx.post(f"{base_url}/graphql", json={"query": VIEWER},
                      headers={"Authorization": f"Bearer {token}"})


def _claims(issuer: str, **overrides: object) -> dict:
    now = int(datetime.now(timezone.utc).timestamp())
    claims = {"iss": issuer, "aud": DEFAULT_AUDIENCE, "sub": "forged-user", "iat": now,
              "nbf": now, "exp": now + 600, "jti": "e2e", "name": "伪造者", "role": "admin",
              "dept": None, "org": None}
    claims.update(overrides)
    return claims


# --- a login token works, and other systems verify it with the JWKS -----------------------------

def test_a_login_token_identifies_the_viewer(demo_server: "Server") -> None:
    response = _viewer_with(demo_server.base_url, _login_token(demo_server.base_url))
    assert response.status_code == 200
    viewer = response.json()["data"]["viewer"]
    assert viewer["role"] == "PUBLISHER" and viewer["departmentId"]


def test_the_jwks_verifies_a_login_token(demo_server: "Server") -> None:
    token = _login_token(demo_server.base_url)
    response = httpx.get(f"{demo_server.base_url}/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    keys = {k["kid"]: k for k in response.json()["keys"]}
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] in keys

    key = jwt.PyJWK(keys[header["kid"]])
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], audience="luan-databank",
                        issuer=demo_server.base_url)  # DATABANK_PUBLIC_URL of the server
    assert claims["role"] == "publisher" and claims["sub"] and claims["exp"] > claims["iat"]
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key.key, algorithms=["EdDSA"], audience="another-system")


# --- a bad token is refused with 401, never served as anonymous -------------------------------

def _assert_refused(response: httpx.Response, reason: str | None) -> dict:
    assert response.status_code == 401, response.text
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    if reason is not None:
        assert error["extensions"]["reason"] == reason, error
    assert error["message"]
    return error


def test_an_expired_token_is_refused(demo_server: "Server") -> None:
    ring = KeyRing.load_or_create(demo_server.data_dir)  # the server's own signing key
    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    tokens = TokenService(ring, issuer=demo_server.base_url, clock=lambda: two_hours_ago)
    token, _ = tokens.issue(subject="someone", name="过期用户", role="publisher")
    error = _assert_refused(_viewer_with(demo_server.base_url, token), "expired")
    assert "expired" in error["message"]


def test_a_token_for_another_audience_is_refused(demo_server: "Server") -> None:
    ring = KeyRing.load_or_create(demo_server.data_dir)
    tokens = TokenService(ring, issuer=demo_server.base_url, audience="another-system")
    token, _ = tokens.issue(subject="someone", name="别的系统", role="admin")
    _assert_refused(_viewer_with(demo_server.base_url, token), "wrong_audience")


def test_a_token_from_another_issuer_is_refused(demo_server: "Server") -> None:
    ring = KeyRing.load_or_create(demo_server.data_dir)
    token, _ = TokenService(ring, issuer="https://elsewhere.example").issue(
        subject="someone", name="别处", role="admin")
    _assert_refused(_viewer_with(demo_server.base_url, token), "wrong_issuer")


def test_a_token_signed_by_another_key_ring_is_refused(demo_server: "Server") -> None:
    token, _ = TokenService(KeyRing.ephemeral(), issuer=demo_server.base_url).issue(
        subject="someone", name="伪造者", role="admin")
    _assert_refused(_viewer_with(demo_server.base_url, token), "unknown_key")


def test_a_forged_signature_under_the_servers_kid_is_refused(demo_server: "Server") -> None:
    server_kid = KeyRing.load_or_create(demo_server.data_dir).current.kid
    forger = KeyRing.ephemeral().current
    token = jwt.encode(_claims(demo_server.base_url), forger.private_key, algorithm="EdDSA",
                       headers={"kid": server_kid})
    _assert_refused(_viewer_with(demo_server.base_url, token), "bad_signature")


def test_an_unsigned_alg_none_token_is_refused(demo_server: "Server") -> None:
    server_kid = KeyRing.load_or_create(demo_server.data_dir).current.kid
    token = jwt.encode(_claims(demo_server.base_url), None, algorithm="none",
                       headers={"kid": server_kid})
    _assert_refused(_viewer_with(demo_server.base_url, token), "unsupported_algorithm")


def test_a_tampered_login_token_is_refused(demo_server: "Server") -> None:
    header, payload, signature = _login_token(demo_server.base_url).split(".")
    claims = jwt.utils.base64url_decode(payload.encode())
    forged = jwt.utils.base64url_encode(claims.replace(b'"publisher"', b'"admin"')).decode()
    _assert_refused(_viewer_with(demo_server.base_url, f"{header}.{forged}.{signature}"),
                    "bad_signature")


@pytest.mark.parametrize("credential", ["garbage", "a.b.c", "x" * 40])
def test_a_garbage_token_is_refused(demo_server: "Server", credential: str) -> None:
    _assert_refused(_viewer_with(demo_server.base_url, credential), "malformed")


def test_another_authorization_scheme_is_refused(demo_server: "Server") -> None:
    response = httpx.post(f"{demo_server.base_url}/graphql", json={"query": VIEWER},
                          headers={"Authorization": "Basic YWRtaW46eA=="})
    _assert_refused(response, None)


# --- limits: refused with 400 before anything runs --------------------------------------------

def _post(base_url: str, body: object) -> httpx.Response:
    return httpx.post(f"{base_url}/graphql", json=body)


def _limit_error(response: httpx.Response, limit: str) -> dict:
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    found = [e for e in errors if e["extensions"].get("limit") == limit]
    assert found, errors
    assert found[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    return found[0]


def test_a_too_deep_query_is_refused(demo_server: "Server") -> None:
    # The schema has no cycles 11 levels deep, so the fields are made up: the depth limit is
    # reported alongside the unknown fields, and nothing runs.
    query = "{ " + "a { " * 11 + "b" + " }" * 11 + " }"
    error = _limit_error(_post(demo_server.base_url, {"query": query}), "max_depth")
    assert error["extensions"]["maximum"] == 10 and error["extensions"]["actual"] == 12
    assert "Query depth 12" in error["message"]


def test_too_many_aliases_are_refused(demo_server: "Server") -> None:
    query = "{ viewer { " + " ".join(f"a{i}: id" for i in range(16)) + " } }"
    error = _limit_error(_post(demo_server.base_url, {"query": query}), "max_aliases")
    assert (error["extensions"]["maximum"], error["extensions"]["actual"]) == (15, 16)


def test_too_many_root_fields_are_refused(demo_server: "Server") -> None:
    query = "{ " + " ".join(f"d{i}: departments {{ id }}" for i in range(11)) + " }"
    _limit_error(_post(demo_server.base_url, {"query": query}), "max_root_fields")


def test_a_too_costly_query_is_refused(demo_server: "Server") -> None:
    page = ("catalogue(first: 1000) { nodes { id name resourceCode status abstract format "
            "category securityLevel updateCycle keywords relatedCodes } }")
    query = "{ " + " ".join(f"c{i}: {page}" for i in range(5)) + " }"
    error = _limit_error(_post(demo_server.base_url, {"query": query}), "max_cost")
    assert error["extensions"]["actual"] == 5 * 1000 * 13
    assert error["extensions"]["maximum"] == 50_000


def test_a_page_size_from_a_variable_is_checked_per_request(demo_server: "Server") -> None:
    query = "query Page($n: Int) { catalogue(first: $n) { totalCount } }"
    ok = _post(demo_server.base_url, {"query": query, "variables": {"n": 5}})
    assert ok.status_code == 200 and "errors" not in ok.json()
    refused = _post(demo_server.base_url, {"query": query, "variables": {"n": 5000}})
    _limit_error(refused, "max_page_size")


def test_a_batched_array_is_refused(demo_server: "Server") -> None:
    response = _post(demo_server.base_url, [{"query": VIEWER}, {"query": VIEWER}])
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST" and "batched" in error["message"]


def test_a_mutation_over_get_is_refused(demo_server: "Server") -> None:
    response = httpx.get(f"{demo_server.base_url}/graphql", params={
        "query": 'mutation { login(username: "admin", password: "x") { token } }'})
    assert response.status_code == 405 and response.headers["allow"] == "POST"


def test_a_query_over_get_runs(demo_server: "Server") -> None:
    response = httpx.get(f"{demo_server.base_url}/graphql",
                         params={"query": "{ departments { name } }"})
    assert response.status_code == 200 and len(response.json()["data"]["departments"]) == 8


def test_a_syntax_error_is_a_parse_failure(demo_server: "Server") -> None:
    response = _post(demo_server.base_url, {"query": "{ viewer { id "})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_another_content_type_is_refused(demo_server: "Server") -> None:
    response = httpx.post(f"{demo_server.base_url}/graphql", content=b"query=%7Bviewer%7Bid%7D%7D",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
