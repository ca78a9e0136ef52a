"""The key ring: persistence, kids as thumbprints, the JWK Set and its endpoint."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from marketplace.identity import KeyRing, jwk_thumbprint, jwks_endpoint


def test_load_or_create_makes_one_key_file_readable_only_by_the_owner(tmp_path: Path) -> None:
    ring = KeyRing.load_or_create(tmp_path)
    files = list((tmp_path / "keys").glob("*.pem"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in files[0].read_bytes()
    assert ring.current.algorithm == "EdDSA"


def test_load_or_create_reloads_the_same_key_the_second_time(tmp_path: Path) -> None:
    first = KeyRing.load_or_create(tmp_path)
    second = KeyRing.load_or_create(tmp_path)
    assert second.current.kid == first.current.kid
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 1


def test_a_rotated_key_is_persisted_and_becomes_current_after_reload(tmp_path: Path) -> None:
    ring = KeyRing.load_or_create(tmp_path)
    old = ring.current.kid
    new = ring.rotate().kid
    reloaded = KeyRing.load_or_create(tmp_path)
    assert reloaded.current.kid == new
    assert reloaded.get(old) is not None
    assert {k.kid for k in reloaded.keys} == {old, new}
    for path in (tmp_path / "keys").glob("*.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_another_process_rotation_is_found_when_an_unknown_kid_arrives(tmp_path: Path) -> None:
    worker_a = KeyRing.load_or_create(tmp_path)
    worker_b = KeyRing(list(KeyRing.load_or_create(tmp_path).keys), directory=tmp_path / "keys",
                       refresh_interval=0)
    new = worker_a.rotate()
    assert worker_b.get(new.kid) is not None
    assert worker_b.current.kid == new.kid


def test_the_kid_is_the_rfc_7638_thumbprint_of_the_public_key() -> None:
    ring = KeyRing.ephemeral()
    jwk = ring.jwks()["keys"][0]
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]},
                           separators=(",", ":"), sort_keys=True).encode()
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    assert ring.current.kid == expected == jwk_thumbprint(ring.current.public_key)


def test_the_rfc_8037_example_key_has_the_published_thumbprint() -> None:
    # RFC 8037 appendix A.3: the Ed25519 example key's thumbprint.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    x = base64.urlsafe_b64decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    key = Ed25519PublicKey.from_public_bytes(x)
    assert jwk_thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_the_jwks_lists_every_key_with_public_members_only() -> None:
    ring = KeyRing.ephemeral()
    ring.rotate()
    ring.rotate()
    jwks = ring.jwks()
    assert [k["kid"] for k in jwks["keys"]][0] == ring.current.kid
    assert {k["kid"] for k in jwks["keys"]} == {k.kid for k in ring.keys}
    assert len(jwks["keys"]) == 3
    for jwk in jwks["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
        assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")


def test_the_jwks_endpoint_serves_the_key_set_with_a_five_minute_public_cache() -> None:
    ring = KeyRing.ephemeral()
    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks_endpoint(ring))])
    with TestClient(app) as client:
        response = client.get("/.well-known/jwks.json")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == ring.jwks()
        ring.rotate()
        assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2


def test_a_signing_key_never_prints_its_private_material() -> None:
    ring = KeyRing.ephemeral()
    assert "PRIVATE" not in repr(ring.current) and ring.current.kid in repr(ring.current)
