"""API keys: the dbk_ format, hashing, scopes, expiry, revocation and once-a-day last use."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

import pytest
from eventsourcing.application import Application

from domain.actors import Actor, Role
from domain.api_key import ApiKey, format_api_key, hash_secret, parse_api_key
from domain.errors import InvalidInputError, NotPermittedError
from domain.organisation import Organisation

CST = timezone(timedelta(hours=8))
ISSUER = Actor("u1", "陈创", Role.MEMBER)
COLLEAGUE = Actor("u2", "刘工", Role.MEMBER)
OUTSIDER = Actor("u3", "路人", Role.MEMBER)
ADMIN = Actor("a1", "管理员", Role.ADMIN)
KEY = format_api_key(bytes(range(30)))
PREFIX, SECRET = parse_api_key(KEY)
EXPIRES = datetime(2026, 12, 31, tzinfo=CST)


def _issue(**overrides) -> ApiKey:
    values = {"organisation_id": "org-1", "name": "nightly ETL", "scopes": ["rows:read", "catalogue:read"],
              "prefix": PREFIX, "secret_hash": hash_secret(SECRET), "expires_at": EXPIRES, "by": ISSUER}
    return ApiKey.issue(**{**values, **overrides})


def test_a_key_is_dbk_and_40_url_safe_characters_whose_first_8_are_the_prefix() -> None:
    assert len(KEY) == 44 and KEY.startswith("dbk_")
    assert (PREFIX, SECRET) == (KEY[4:12], KEY[4:])


def test_a_key_needs_exactly_30_random_bytes() -> None:
    with pytest.raises(ValueError):
        format_api_key(b"short")


@pytest.mark.parametrize("presented", [
    "", "dbk_", KEY[:-1], KEY + "A", "DBK_" + KEY[4:], "sk_" + KEY[4:], KEY[:10] + "+" + KEY[11:],
    KEY[:10] + "=" + KEY[11:], "dbk_" + "中" * 40, None,
])
def test_anything_else_does_not_parse_and_never_raises(presented) -> None:
    assert parse_api_key(presented) is None


def test_the_secret_is_stored_as_its_sha256_hex_digest() -> None:
    assert hash_secret(SECRET) == hashlib.sha256(SECRET.encode()).hexdigest()
    key = _issue()
    assert key.secret_hash == hash_secret(SECRET) and SECRET not in repr(vars(key))


def test_the_key_is_found_by_hashing_the_presented_secret() -> None:
    assert _issue().id == ApiKey.create_id(hash_secret(parse_api_key(KEY)[1]))


def test_scopes_are_deduplicated_and_sorted() -> None:
    assert _issue(scopes=["rows:read", "catalogue:read", "rows:read"]).scopes == ["catalogue:read", "rows:read"]


@pytest.mark.parametrize("overrides, field", [
    ({"name": " "}, "name"), ({"scopes": []}, "scopes"), ({"scopes": ["rows:write"]}, "scopes"),
    ({"prefix": "abc"}, "prefix"), ({"secret_hash": SECRET}, "secret_hash"),
    ({"expires_at": datetime(2026, 12, 31)}, "expires_at"),
])
def test_an_invalid_key_names_the_field_at_fault(overrides, field) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _issue(**overrides)
    assert caught.value.field == field


def test_keys_are_issued_to_members_only() -> None:
    with pytest.raises(NotPermittedError):
        _issue(by=ADMIN)


def test_a_key_is_usable_until_it_expires() -> None:
    key = _issue()
    assert key.is_usable(EXPIRES - timedelta(seconds=1))
    assert not key.is_usable(EXPIRES)
    assert _issue(expires_at=None).is_usable(datetime(2099, 1, 1, tzinfo=CST))


def test_a_revoked_key_is_unusable_and_revoking_again_changes_nothing() -> None:
    key = _issue()
    key.revoke(by=ISSUER)
    key.revoke(by=ISSUER)
    assert not key.is_usable(datetime(2026, 1, 1, tzinfo=CST))
    assert [type(e).__name__ for e in key.collect_events()] == ["Issued", "Revoked"]


def test_colleagues_revoke_with_the_organisation_at_hand_and_outsiders_never() -> None:
    org = Organisation.register(credit_code="91320621MA1MRHG205", name="云数科技", kind="startup", by=COLLEAGUE)
    key = _issue(organisation_id=str(org.id))
    with pytest.raises(NotPermittedError):
        key.revoke(by=COLLEAGUE)
    with pytest.raises(NotPermittedError):
        key.revoke(by=OUTSIDER, organisation=org)
    key.revoke(by=COLLEAGUE, organisation=org)
    assert key.revoked


def test_an_administrator_revokes_any_key() -> None:
    key = _issue()
    key.revoke(by=ADMIN)
    assert key.revoked


def test_use_is_noted_at_most_once_a_day() -> None:
    key = _issue()
    key.collect_events()
    for day in (date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 1), date(2026, 3, 3), date(2026, 3, 3)):
        key.touch(day)
    assert key.last_used_day == "2026-03-03"
    assert [e.day for e in key.collect_events()] == ["2026-03-02", "2026-03-03"]


def test_a_revoked_key_notes_no_use() -> None:
    key = _issue()
    key.revoke(by=ISSUER)
    key.touch(date(2026, 3, 2))
    assert key.last_used_day is None


def test_a_key_round_trips_through_the_event_store_to_the_same_state() -> None:
    key = _issue()
    key.touch(date(2026, 3, 2))
    key.revoke(by=ADMIN)
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(key)
    loaded = app.repository.get(key.id)
    assert vars(loaded) == vars(key)
    assert loaded.expires_at == EXPIRES and loaded.display == f"dbk_{PREFIX}…"
