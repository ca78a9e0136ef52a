"""The Market: the event store of the market and licensing area (member accounts, licence
templates, plans, organisations, subscriptions, access applications, API keys), and the few
helpers every capability service of that area shares.

One eventsourcing application, one log (the entitlements read model follows it). The use cases
are NOT methods of this class: each capability has its own small service holding a ``Market``
(members.py, licensing.py, organisations.py, subscriptions.py, access_applications.py,
api_keys.py). What they share is public here, so no service reaches into another's privates;
what one capability needs of another it asks through that service's public methods.
"""

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


def open_type_of(asset: DataAsset) -> str:
    """The asset's 开放类型 (unconditional, conditional or not_open)."""
    return asset.metadata["opening"]["type"]


class Market(Application):
    """The market and licensing area's event store, shared by its capability services."""

    # The persistence names derive from the application's name: the SQLite file
    # ``events/marketplace.sqlite3`` and the PostgreSQL tables of stores written when this was
    # the ``Marketplace`` application. Keep it, or existing data banks open an empty store.
    name = "Marketplace"

    def __init__(self, env: dict[str, str] | None = None, *, catalogue: Catalogue,
                 clock: Callable[[], datetime] = utc_now) -> None:
        """
        :param env: the eventsourcing persistence environment (see services.persistence)
        :param catalogue: where assets are looked up (published? open type? department?)
        :param clock: the current time, timezone-aware, read by every capability service (set
            it to control time in tests)
        """
        super().__init__(env)
        self.catalogue = catalogue
        self.clock = clock

    def find(self, cls: type[T], aggregate_id: UUID | str | None) -> T | None:
        """The aggregate of type ``cls``; None when there is none (or it is of another type)."""
        if not aggregate_id:
            return None
        try:
            found: object = self.repository.get(aggregate_id if isinstance(aggregate_id, UUID)
                                                else UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            return None
        return found if isinstance(found, cls) else None

    def require(self, cls: type[T], aggregate_id: UUID | str | None, what: str, field: str) -> T:
        """The aggregate, or NotFoundError "no such ``what``" on ``field``."""
        found = self.find(cls, aggregate_id)
        if found is None:
            raise NotFoundError(f"no such {what}", field=field)
        return found

    def change(self, cls: type[T], aggregate_id: UUID | str, what: str, field: str,
               command: Callable[[T], Any]) -> T:
        """Reload, decide, save — again when another writer saved the same version first."""
        def attempt() -> T:
            found = self.require(cls, aggregate_id, what, field)
            command(found)
            self.save(found)
            return found

        return retry_on_conflict(attempt)

    def organisation_for(self, organisation_id: str | None, by: Actor, *,
                         admin: bool = False) -> Organisation:
        """The organisation, when ``by`` is one of its members (or, with ``admin``, an
        administrator). To anyone else it is "no such organisation", as when there is none: its
        id is uuid5 of a public credit code, so "not yours" apart from "not there" (or a message
        naming it) would tell a stranger that it exists and what it is called."""
        found = self.find(Organisation, organisation_id)
        if found is not None and not (admin and by.role is Role.ADMIN):
            try:
                found.check_member(by)
            except NotPermittedError:
                found = None
        if found is None:
            raise NotFoundError("no such organisation", field="organisation_id")
        return found

    def published_asset(self, asset_id: str) -> DataAsset:
        """The catalogue's asset when it is published; "no such data asset" or "not published"."""
        asset = self.catalogue.get_asset(asset_id)
        if asset is None:
            raise NotFoundError("no such data asset", field="asset_id")
        if asset.status != AssetStatus.PUBLISHED.value:
            raise InvalidStateError(f"the data asset is {asset.status}, not published",
                                    field="asset_id")
        return asset
