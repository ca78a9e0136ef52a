"""What every Marketplace use case shares: finding aggregates, changing one with retries, the
clock and the catalogue it consults."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate

from domain.actors import Actor, Role
from domain.asset import AssetStatus, DataAsset
from domain.errors import InvalidStateError, NotFoundError, NotPermittedError
from domain.organisation import Organisation
from marketplace.services.catalogue import Catalogue
from marketplace.services.conflicts import retry_on_conflict

T = TypeVar("T", bound=Aggregate)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class MarketplaceBase(Application):
    """Helpers of the Marketplace use cases (the attributes are set by ``Marketplace``)."""

    catalogue: Catalogue
    clock: Callable[[], datetime]

    def _find(self, cls: type[T], aggregate_id: UUID | str | None) -> T | None:
        if not aggregate_id:
            return None
        try:
            found: object = self.repository.get(aggregate_id if isinstance(aggregate_id, UUID)
                                        else UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            return None
        return found if isinstance(found, cls) else None

    def _require(self, cls: type[T], aggregate_id: UUID | str | None, what: str, field: str) -> T:
        found = self._find(cls, aggregate_id)
        if found is None:
            raise NotFoundError(f"no such {what}", field=field)
        return found

    def _organisation_for(self, organisation_id: str | None, by: Actor, *,
                          admin: bool = False) -> Organisation:
        """The organisation, when ``by`` is one of its members (or, with ``admin``, an
        administrator). To anyone else it is "no such organisation", as when there is none: its
        id is uuid5 of a public credit code, so "not yours" apart from "not there" (or a message
        naming it) would tell a stranger that it exists and what it is called."""
        found = self._find(Organisation, organisation_id)
        if found is not None and not (admin and by.role is Role.ADMIN):
            try:
                found.check_member(by)
            except NotPermittedError:
                found = None
        if found is None:
            raise NotFoundError("no such organisation", field="organisation_id")
        return found

    def _change(self, cls: type[T], aggregate_id: UUID | str, what: str, field: str,
                command: Callable[[T], Any]) -> T:
        """Reload, decide, save — again when another writer saved the same version first."""
        def attempt() -> T:
            found = self._require(cls, aggregate_id, what, field)
            command(found)
            self.save(found)
            return found

        return retry_on_conflict(attempt)

    def _published_asset(self, asset_id: str) -> DataAsset:
        asset = self.catalogue.get_asset(asset_id)
        if asset is None:
            raise NotFoundError("no such data asset", field="asset_id")
        if asset.status != AssetStatus.PUBLISHED.value:
            raise InvalidStateError(f"the data asset is {asset.status}, not published",
                                    field="asset_id")
        return asset


def open_type_of(asset: DataAsset) -> str:
    """The asset's 开放类型 (unconditional, conditional or not_open)."""
    return asset.metadata["opening"]["type"]
