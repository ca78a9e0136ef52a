"""Organisation queries for a caller: my organisations, the one I act for, an organisation's API
keys and notifications — and the one scope rule the licensing and access application views
share (``organisation_in_scope``).

Who sees what: a member sees the organisations they belong to (the one in their token by
default); an administrator any organisation named; anyone else none. Out of scope is the same
answer as no such organisation: None, or an empty list — never a refusal that would tell an
outsider the organisation exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.actors import Actor, Role
from marketplace.projections.entitlements import EntitlementsView
from marketplace.projections.market.api_keys import ApiKeyDoc
from marketplace.projections.market.notifications import NotificationDoc
from marketplace.projections.market.organisations import MemberEntry, OrganisationDoc

__all__ = ["ApiKeyDoc", "CatchUp", "MemberEntry", "NotificationDoc", "OrganisationDoc",
           "OrganisationQueries", "organisation_in_scope"]

#: Brings the read model up to date with the log (the entitlements follower's ``catch_up``):
#: a view calls it for a fresh read, so a caller sees the change they just made.
CatchUp = Callable[[], object]


class Organisations(Protocol):
    """Where the scope rule looks an organisation up (the entitlements read model is one)."""

    def organisation(self, organisation_id: str) -> OrganisationDoc | None: ...


def organisation_in_scope(organisations: Organisations, actor: Actor,
                          organisation_id: str | None) -> str | None:
    """The organisation ``actor`` may look at: for a member, the one named (default: the one they
    act for) if they belong to it; for an administrator, the one named; else None."""
    if actor.role is Role.ADMIN:
        return organisation_id
    if actor.role is not Role.MEMBER:
        return None
    wanted = organisation_id or actor.organisation_id
    organisation = organisations.organisation(wanted) if wanted else None
    return wanted if organisation and actor.user_id in organisation["members"] else None


class OrganisationQueries:
    """The organisations' read side for one caller at a time (built once, shared by requests)."""

    def __init__(self, read_model: EntitlementsView, catch_up: CatchUp) -> None:
        """:param read_model: the entitlements read model
        :param catch_up: brings it up to date with the log (for fresh reads)"""
        self._read_model = read_model
        self._catch_up = catch_up

    def in_scope(self, actor: Actor, organisation_id: str | None) -> str | None:
        """``organisation_in_scope`` over this view's read model."""
        return organisation_in_scope(self._read_model, actor, organisation_id)

    def my_organisations(self, actor: Actor) -> list[OrganisationDoc]:
        """The organisations a member belongs to, oldest first (nobody else belongs to any)."""
        if actor.role is not Role.MEMBER:
            return []
        return self._read_model.organisations_of(actor.user_id)

    def my_organisation(self, actor: Actor) -> OrganisationDoc | None:
        """The organisation a member acts for (in their token), if they still belong to it."""
        if actor.role is not Role.MEMBER:
            return None
        organisation_id = self.in_scope(actor, None)
        return self._read_model.organisation(organisation_id) if organisation_id else None

    def organisation(self, organisation_id: str, *, fresh: bool = False) -> OrganisationDoc | None:
        """One organisation, for the caller who just changed it (no scope rule: the service
        already decided they may). ``fresh``: after catching up with the log."""
        self._freshen(fresh)
        return self._read_model.organisation(organisation_id)

    def api_keys(self, actor: Actor, organisation_id: str | None = None) -> list[ApiKeyDoc]:
        """An organisation's API keys (revoked ones too), oldest first; empty out of scope."""
        organisation = self.in_scope(actor, organisation_id)
        return self._read_model.api_keys_of(organisation) if organisation else []

    def api_key(self, organisation_id: str, key_id: str, *,
                fresh: bool = False) -> ApiKeyDoc | None:
        """One API key of an organisation, for the caller who just issued or revoked it.
        ``fresh``: after catching up with the log."""
        self._freshen(fresh)
        return next((k for k in self._read_model.api_keys_of(organisation_id)
                     if k["id"] == key_id), None)

    def notifications(self, actor: Actor,
                      organisation_id: str | None = None) -> list[NotificationDoc]:
        """What the bank told an organisation, newest first; empty out of scope."""
        organisation = self.in_scope(actor, organisation_id)
        return self._read_model.notifications_of(organisation) if organisation else []

    def _freshen(self, fresh: bool) -> None:
        if fresh:
            self._catch_up()
