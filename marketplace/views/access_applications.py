"""Access application (有条件开放申请) queries for a caller.

Who sees what: a member their organisation's applications (the one they act for by default); a
publisher the applications to their own department (they decide them), whatever organisation is
named; an administrator all, or one organisation's; anyone else none. Out of scope is an empty
list, the same answer as no applications.
"""

from __future__ import annotations

from domain.actors import Actor, Role
from marketplace.projections.entitlements import EntitlementsView
from marketplace.projections.market.access_applications import (
    AccessApplicationDoc,
    UseAgreementDoc,
)
from marketplace.views.organisations import CatchUp, organisation_in_scope

__all__ = ["AccessApplicationDoc", "AccessApplicationQueries", "UseAgreementDoc"]

#: No department has this id: a publisher without a department sees no applications.
_NO_DEPARTMENT = "-"


class AccessApplicationQueries:
    """The access applications' read side for one caller at a time (built once, shared)."""

    def __init__(self, read_model: EntitlementsView, catch_up: CatchUp) -> None:
        """:param read_model: the entitlements read model
        :param catch_up: brings it up to date with the log (for fresh reads)"""
        self._read_model = read_model
        self._catch_up = catch_up

    def applications(self, actor: Actor,
                     organisation_id: str | None = None) -> list[AccessApplicationDoc]:
        """The applications ``actor`` may see, newest first."""
        if actor.role is Role.PUBLISHER:
            return self._read_model.access_applications(
                department_id=actor.department_id or _NO_DEPARTMENT)
        if actor.role is Role.ADMIN:
            return self._read_model.access_applications(organisation_id=organisation_id)
        organisation = organisation_in_scope(self._read_model, actor, organisation_id)
        return (self._read_model.access_applications(organisation_id=organisation)
                if organisation else [])

    def application(self, application_id: str, *,
                    fresh: bool = False) -> AccessApplicationDoc | None:
        """One application, for the caller who just submitted or decided it (no scope rule: the
        service already decided they may). ``fresh``: after catching up with the log."""
        if fresh:
            self._catch_up()
        return self._read_model.access_application(application_id)
