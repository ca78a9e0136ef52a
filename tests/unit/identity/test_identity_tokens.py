"""Staff tokens: issue, verify, and every way a token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from marketplace.identity import InvalidTokenError, KeyRing, TokenService

START = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def b64(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing.ephemeral()


@pytest.fixture
def service(keyring: KeyRing, clock: Clock) -> TokenService:
    return TokenService(keyring, clock=clock)


def refused(service: TokenService, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        service.verify(token)
    return caught.value


def test_an_issued_token_verifies_to_the_same_claims(service: TokenService) -> None:
    token, claims = service.issue(subject="u-7", name="王芳", role="publisher",
                                  department_id="dept-1", organisation_id=None)
    verified = service.verify(token)
    assert verified == claims
    assert (verified.subject, verified.name, verified.role, verified.department_id) == (
        "u-7", "王芳", "publisher", "dept-1")
    assert verified.expires_at - verified.issued_at == timedelta(minutes=30)
    assert verified.issued_at == START


def test_each_token_gets_its_own_token_id(service: TokenService) -> None:
    _, first = service.issue(subject="u", name="n", role="admin")
    _, second = service.issue(subject="u", name="n", role="admin")
    assert first.token_id != second.token_id


def test_a_token_carries_the_kid_and_algorithm_of_the_current_key(service: TokenService,
                                                                  keyring: KeyRing) -> None:
    token, _ = service.issue(subject="u", name="n", role="admin")
    header = jwt.get_unverified_header(token)
    assert header["kid"] == keyring.current.kid
    assert header["alg"] == "EdDSA"


def test_a_token_is_refused_as_expired_after_its_lifetime_and_leeway(service: TokenService,
                                                                    clock: Clock) -> None:
    token, _ = service.issue(subject="u", name="n", role="admin")
    clock.now = START + timedelta(minutes=30, seconds=20)  # inside the 30 s leeway
    assert service.verify(token).subject == "u"
    clock.now = START + timedelta(minutes=31)
    error = refused(service, token)
    assert error.reason == "expired"
    assert str(error) == "The token has expired; sign in again."


def test_a_token_from_the_future_is_refused_as_not_yet_valid(keyring: KeyRing, clock: Clock) -> None:
    ahead = TokenService(keyring, clock=lambda: START + timedelta(minutes=5))
    token, _ = ahead.issue(subject="u", name="n", role="admin")
    assert refused(TokenService(keyring, clock=clock), token).reason == "not_yet_valid"


def test_a_token_signed_by_another_keyring_is_refused(service: TokenService, clock: Clock) -> None:
    other = TokenService(KeyRing.ephemeral(), clock=clock)
    token, _ = other.issue(subject="u", name="n", role="admin")
    assert refused(service, token).reason == "unknown_key"


def test_a_token_signed_by_another_key_under_our_kid_fails_the_signature(
        service: TokenService, keyring: KeyRing, clock: Clock) -> None:
    impostor = KeyRing.ephemeral().current
    now = int(START.timestamp())
    token = jwt.encode({"iss": service.issuer, "aud": service.audience, "sub": "u", "iat": now,
                        "nbf": now, "exp": now + 60, "jti": "j", "name": "n", "role": "admin"},
                       impostor.private_key, algorithm="EdDSA", headers={"kid": keyring.current.kid})
    assert refused(service, token).reason == "bad_signature"


def test_an_alg_none_token_is_refused_as_unsupported_algorithm(service: TokenService,
                                                              keyring: KeyRing) -> None:
    now = int(START.timestamp())
    header = {"alg": "none", "typ": "JWT", "kid": keyring.current.kid}
    payload = {"iss": service.issuer, "aud": service.audience, "sub": "u", "iat": now, "nbf": now,
               "exp": now + 60, "jti": "j", "name": "n", "role": "admin"}
    error = refused(service, f"{b64(header)}.{b64(payload)}.")
    assert error.reason == "unsupported_algorithm"
    assert "EdDSA" in str(error)


def test_an_hs256_token_keyed_with_our_public_key_is_refused(service: TokenService,
                                                            keyring: KeyRing) -> None:
    now = int(START.timestamp())
    header = {"alg": "HS256", "typ": "JWT", "kid": keyring.current.kid}
    payload = {"iss": service.issuer, "aud": service.audience, "sub": "attacker", "iat": now,
               "nbf": now, "exp": now + 60, "jti": "j", "name": "n", "role": "admin"}
    signing_input = f"{b64(header)}.{b64(payload)}"
    for secret in (
        keyring.current.public_key.public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo),
        keyring.current.public_key.public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw),
    ):
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert refused(service, f"{signing_input}.{b64(signature)}").reason == "unsupported_algorithm"


def test_a_token_for_another_audience_is_refused(keyring: KeyRing, clock: Clock,
                                                 service: TokenService) -> None:
    token, _ = TokenService(keyring, audience="anhui-portal", clock=clock).issue(
        subject="u", name="n", role="admin")
    assert refused(service, token).reason == "wrong_audience"


def test_a_token_from_another_issuer_is_refused(keyring: KeyRing, clock: Clock,
                                               service: TokenService) -> None:
    token, _ = TokenService(keyring, issuer="https://evil.example", clock=clock).issue(
        subject="u", name="n", role="admin")
    assert refused(service, token).reason == "wrong_issuer"


def test_a_token_without_a_kid_is_refused(service: TokenService, keyring: KeyRing) -> None:
    now = int(START.timestamp())
    token = jwt.encode({"iss": service.issuer, "aud": service.audience, "sub": "u", "iat": now,
                        "nbf": now, "exp": now + 60, "jti": "j", "name": "n", "role": "admin"},
                       keyring.current.private_key, algorithm="EdDSA")
    error = refused(service, token)
    assert error.reason == "unknown_key"
    assert "kid" in str(error)


def test_a_token_without_a_role_is_refused_as_missing_a_claim(service: TokenService,
                                                             keyring: KeyRing) -> None:
    now = int(START.timestamp())
    token = jwt.encode({"iss": service.issuer, "aud": service.audience, "sub": "u", "iat": now,
                        "nbf": now, "exp": now + 60, "jti": "j", "name": "n"},
                       keyring.current.private_key, algorithm="EdDSA",
                       headers={"kid": keyring.current.kid})
    error = refused(service, token)
    assert error.reason == "missing_claim"
    assert "role" in str(error)


def test_a_tampered_payload_fails_the_signature(service: TokenService) -> None:
    token, _ = service.issue(subject="u", name="n", role="member")
    header, payload, signature = token.split(".")
    claims = unb64(payload)
    claims["role"] = "admin"
    assert refused(service, f"{header}.{b64(claims)}.{signature}").reason == "bad_signature"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9.!!.x"])
def test_garbage_is_refused_as_malformed_with_a_plain_sentence(service: TokenService,
                                                              garbage: str) -> None:
    error = refused(service, garbage)
    assert error.reason in {"malformed", "unsupported_algorithm"}
    assert "Traceback" not in str(error) and str(error).endswith(".")


def test_after_rotation_old_tokens_verify_and_new_tokens_carry_the_new_kid(
        service: TokenService, keyring: KeyRing) -> None:
    old_token, old_claims = service.issue(subject="u", name="n", role="admin")
    old_kid = keyring.current.kid
    new_key = keyring.rotate()
    new_token, _ = service.issue(subject="u", name="n", role="admin")
    assert new_key.kid != old_kid
    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
    assert service.verify(old_token) == old_claims
    assert service.verify(new_token).subject == "u"


def test_a_retired_key_no_longer_verifies(service: TokenService, keyring: KeyRing) -> None:
    token, _ = service.issue(subject="u", name="n", role="admin")
    old_kid = keyring.current.kid
    keyring.rotate()
    keyring.retire(old_kid)
    assert refused(service, token).reason == "unknown_key"


def test_the_current_key_cannot_be_retired(keyring: KeyRing) -> None:
    with pytest.raises(ValueError):
        keyring.retire(keyring.current.kid)


def test_a_verifier_built_only_from_the_published_jwks_verifies_our_tokens(
        service: TokenService, keyring: KeyRing) -> None:
    old_token, _ = service.issue(subject="u-1", name="n", role="reviewer")
    keyring.rotate()
    new_token, _ = service.issue(subject="u-2", name="n", role="reviewer")
    published = json.loads(json.dumps(keyring.jwks()))  # what goes over the wire
    assert len(published["keys"]) == 2
    # Another government system: only the JWK Set, pyjwt, and the expected issuer/audience.
    by_kid = {jwk["kid"]: jwt.PyJWK(jwk) for jwk in published["keys"]}
    for token, subject in ((old_token, "u-1"), (new_token, "u-2")):
        key = by_kid[jwt.get_unverified_header(token)["kid"]]
        assert key.algorithm_name == "EdDSA"
        payload = jwt.decode(token, key, algorithms=["EdDSA"], audience="luan-databank",
                             issuer="https://databank.luan.gov.cn",
                             options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
        assert payload["sub"] == subject


def test_a_clock_without_a_timezone_is_rejected(keyring: KeyRing) -> None:
    naive = TokenService(keyring, clock=lambda: datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        naive.issue(subject="u", name="n", role="admin")


# --- time claims out of any calendar (issue 9: a correctly signed token must not cause a 500) ---


def _signed(service: TokenService, keyring: KeyRing, **overrides: object) -> str:
    now = int(START.timestamp())
    claims = {"iss": service.issuer, "aud": service.audience, "sub": "u", "iat": now, "nbf": now,
              "exp": now + 60, "jti": "j", "name": "n", "role": "admin", **overrides}
    return jwt.encode(claims, keyring.current.private_key, algorithm="EdDSA",
                      headers={"kid": keyring.current.kid})


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", [1e20, -1e20, 10**30, float("inf"), float("nan"), 1e308])
def test_a_signed_time_claim_beyond_any_date_is_refused_as_malformed(
        service: TokenService, keyring: KeyRing, claim: str, value: float) -> None:
    error = refused(service, _signed(service, keyring, **{claim: value}))
    assert error.reason == "malformed"
    assert claim in str(error) and str(error).endswith(".")


@pytest.mark.parametrize("value", [1e20, float("nan"), float("inf")])
def test_a_signed_export_link_with_an_expiry_beyond_any_date_is_refused(
        keyring: KeyRing, clock: Clock, value: float) -> None:
    from marketplace.identity import StatementSigner
    from marketplace.identity.signing import sign

    signer = StatementSigner(keyring, audience="databank-export", clock=clock)
    now = int(START.timestamp())
    token = sign(keyring, {"iss": signer.issuer, "aud": signer.audience, "sub": "s", "iat": now,
                           "exp": value, "jti": "j"})
    with pytest.raises(InvalidTokenError) as caught:
        signer.verify(token)
    assert caught.value.reason == "malformed"
