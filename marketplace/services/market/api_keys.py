"""API keys: members create named, scoped, expiring keys (shown once) and revoke them."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from domain.actors import Actor
from domain.api_key import ApiKey, format_api_key, hash_secret, parse_api_key
from domain.errors import NotFoundError, NotPermittedError
from domain.organisation import Organisation
from marketplace.services.conflicts import retry_on_conflict
from marketplace.services.market.store import Market


class ApiKeys:
    """An organisation's API keys: issued, revoked, and the day each was last used."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def create_api_key(self, organisation_id: str, *, name: str, scopes: list[str],
                       expires_at: datetime | None = None, by: Actor) -> tuple[ApiKey, str]:
        """Issue a key; returns it with the plaintext ``dbk_...``, which is never stored or
        shown again (only its SHA-256 is kept)."""
        organisation = self.market.organisation_for(organisation_id, by)
        plaintext = format_api_key(secrets.token_bytes(30))
        parsed = parse_api_key(plaintext)
        assert parsed is not None
        prefix, secret = parsed
        key = ApiKey.issue(organisation_id=str(organisation.id), name=name, scopes=scopes,
                           prefix=prefix, secret_hash=hash_secret(secret), expires_at=expires_at,
                           by=by)
        self.market.save(key)
        return key, plaintext

    def get_api_key(self, key_id: str) -> ApiKey | None:
        return self.market.find(ApiKey, key_id)

    def revoke_api_key(self, key_id: str, *, by: Actor) -> ApiKey:
        def revoke(key: ApiKey) -> None:
            try:
                key.revoke(by=by, organisation=self.market.find(Organisation, key.organisation_id))
            except NotPermittedError:  # another organisation's key: as if there were none
                raise NotFoundError("no such API key", field="key_id") from None

        return self.market.change(ApiKey, key_id, "API key", "key_id", revoke)

    def touch_api_key(self, key_id: str, day: date) -> bool:
        """Note that the key was used on ``day`` (China time); True when that recorded an event
        (``ApiKey.Used``: only for a later day than the last noted, and not on a revoked key).
        Called off the hot path, at most once per key, day and process."""
        def attempt() -> bool:
            key = self.market.require(ApiKey, key_id, "API key", "key_id")
            key.touch(day)
            if not key.pending_events:
                return False
            self.market.save(key)
            return True

        return retry_on_conflict(attempt)
