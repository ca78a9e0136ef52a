"""有条件开放申请: an application for access to a conditionally open data asset.

The applicant states purpose, scenario and a security commitment; the providing department
answers within N working days (default 5, as Shandong's rules set). Approval binds a use
agreement (scope, period end, no onward transfer); a rejection gives reasons. An application
still unanswered after its deadline is escalated to the data bank administrators, who may then
decide it too. Times come in as arguments; working days are counted in China Standard Time.

This module was ``domain.application``; events stored before the move carry topics such as
``domain.application:AccessApplication.Submitted``, so the old module name stays registered
(``FORMER_MODULE``) and those events still load.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain import calendar as china_calendar
from domain.actors import Actor, Role
# CHINA is re-exported: the BDD steps import it from here
from domain.calendar import CHINA as CHINA, WEEKENDS_ONLY, HolidayCalendar, china_date
from domain.errors import (
    ApplicationRequiredError,
    InvalidInputError,
    InvalidStateError,
    NotConditionalError,
    NotPermittedError,
)
from domain.ids import natural_id
from domain.metadata import OpenType

DEFAULT_REVIEW_DAYS = 5
MAX_TEXT = 2000

#: Where this module lived until the name became ``access_application``. Stored events keep the
#: topic they were written with, so ``domain.application:AccessApplication.<Event>`` must resolve
#: here forever; and whoever selects notifications by topic selects both (``event_topics``).
FORMER_MODULE = "domain.application"
register_topic(FORMER_MODULE, sys.modules[__name__])


class ApplicationStatus(str, Enum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"


def add_working_days(start: date, n: int, holidays: frozenset[date] = frozenset(),
                     makeup_days: frozenset[date] = frozenset()) -> date:
    """``domain.calendar.add_working_days`` with the calendar given as its two sets (the
    signature the aggregate's tests pin)."""
    return china_calendar.add_working_days(start, n, HolidayCalendar(holidays, makeup_days))


class AccessApplication(Aggregate):
    """One organisation's application for one conditionally open asset."""

    @staticmethod
    def create_id(organisation_id: str, asset_id: str, submitted_at: datetime) -> UUID:
        return natural_id("access-application",
                          f"{organisation_id}:{asset_id}:{submitted_at.isoformat()}")

    @classmethod
    def submit(cls, *, organisation_id: str, asset_id: str, asset_department_id: str,
               asset_open_type: OpenType | str, purpose: str, scenario: str,
               security_commitment: str, submitted_at: datetime,
               review_days: int = DEFAULT_REVIEW_DAYS,
               calendar: HolidayCalendar = WEEKENDS_ONLY, by: Actor) -> "AccessApplication":
        """Submit an application (the service has checked ``by`` is a member of the organisation).

        :param asset_department_id: the providing department, whose publishers decide
        :param asset_open_type: the asset's 开放类型; only ``conditional`` takes applications
        :param submitted_at: when it was submitted (timezone-aware)
        :param review_days: working days the provider has to answer (configurable, default 5)
        :param calendar: public holidays and 调休 make-up working days (the service passes the
            configured one; the default knows weekends only)
        """
        if by.role is not Role.MEMBER:
            raise NotPermittedError("access is applied for by a member of an organisation")
        open_type = asset_open_type.value if isinstance(asset_open_type, Enum) else asset_open_type
        if open_type != OpenType.CONDITIONAL.value:
            raise NotConditionalError(
                "only a conditionally open asset takes access applications", field="asset_id")
        if submitted_at.tzinfo is None:
            raise InvalidInputError("the submission time needs a timezone", field="submitted_at")
        if not 1 <= review_days <= 60:
            raise InvalidInputError("the review period is 1 to 60 working days", field="review_days")
        deadline = china_calendar.add_working_days(china_date(submitted_at), review_days, calendar)
        return cls(organisation_id=str(organisation_id), asset_id=str(asset_id),
                   asset_department_id=str(asset_department_id),
                   purpose=_text(purpose, "purpose"), scenario=_text(scenario, "scenario"),
                   security_commitment=_text(security_commitment, "security_commitment"),
                   submitted_at=submitted_at, deadline=deadline.isoformat(), by=by.record())

    @event("Submitted")
    def __init__(self, organisation_id: str, asset_id: str, asset_department_id: str, purpose: str,
                 scenario: str, security_commitment: str, submitted_at: datetime, deadline: str,
                 by: dict[str, Any]) -> None:
        self.organisation_id = organisation_id
        self.asset_id = asset_id
        self.asset_department_id = asset_department_id
        self.purpose = purpose
        self.scenario = scenario
        self.security_commitment = security_commitment
        self.submitted_at = submitted_at
        self.deadline = deadline  # ISO date (China time): the last day to answer
        self.status = ApplicationStatus.SUBMITTED.value
        self.agreement: dict[str, Any] | None = None
        self.reasons: list[str] = []

    # ---- queries -------------------------------------------------------------------------

    @property
    def deadline_date(self) -> date:
        return date.fromisoformat(self.deadline)

    def is_overdue(self, now: datetime) -> bool:
        """Unanswered and past the end of the deadline day (China time)."""
        return (self.status == ApplicationStatus.SUBMITTED.value
                and china_date(now) > self.deadline_date)

    def check_grants(self, *, organisation_id: str, asset_id: str, on: date) -> str:
        """Return this application's id when its agreement lets the organisation use the asset on
        ``on``; raise ApplicationRequiredError otherwise (used before starting a subscription)."""
        if self.status != ApplicationStatus.APPROVED.value or self.agreement is None:
            raise ApplicationRequiredError(f"the application is {self.status}, not approved",
                                           field="application_id")
        if (self.organisation_id, self.asset_id) != (str(organisation_id), str(asset_id)):
            raise ApplicationRequiredError("the application is for another organisation or asset",
                                           field="application_id")
        if on > date.fromisoformat(self.agreement["period_end"]):
            raise ApplicationRequiredError("the use agreement's period has ended",
                                           field="application_id")
        return str(self.id)

    # ---- commands ------------------------------------------------------------------------

    def approve(self, *, scope: str, period_end: date, by: Actor) -> None:
        """Approve under a use agreement: ``scope`` of use, until ``period_end``, and never passed
        on to third parties (no onward transfer is always part of the agreement)."""
        self._check_decider(by)
        if period_end <= china_date(self.submitted_at):
            raise InvalidInputError("the agreement period ends after the submission date",
                                    field="period_end")
        self._approved(agreement={"scope": _text(scope, "scope"),
                                  "period_end": period_end.isoformat(),
                                  "onward_transfer": False}, by=by.record())

    @event("Approved")
    def _approved(self, agreement: dict[str, Any], by: dict[str, Any]) -> None:
        self.status = ApplicationStatus.APPROVED.value
        self.agreement = agreement

    def reject(self, *, reasons: list[str], by: Actor) -> None:
        self._check_decider(by)
        cleaned = [r.strip()[:MAX_TEXT] for r in reasons if r and r.strip()]
        if not cleaned:
            raise InvalidInputError("a rejection gives at least one reason", field="reasons")
        self._rejected(reasons=cleaned, by=by.record())

    @event("Rejected")
    def _rejected(self, reasons: list[str], by: dict[str, Any]) -> None:
        self.status = ApplicationStatus.REJECTED.value
        self.reasons = reasons

    def escalate_if_overdue(self, now: datetime) -> bool:
        """Escalate to the administrators when unanswered past the deadline; True if it did."""
        if not self.is_overdue(now):
            return False
        self._escalated(at=now)
        return True

    @event("Escalated")
    def _escalated(self, at: datetime) -> None:
        self.status = ApplicationStatus.ESCALATED.value

    # ---- rules ---------------------------------------------------------------------------

    def _check_decider(self, by: Actor) -> None:
        if self.status not in (ApplicationStatus.SUBMITTED.value, ApplicationStatus.ESCALATED.value):
            raise InvalidStateError(f"the application is already {self.status}", field="status")
        if by.role is Role.PUBLISHER and by.department_id == self.asset_department_id:
            return
        if by.role is Role.ADMIN:
            if self.status == ApplicationStatus.ESCALATED.value:
                return
            raise NotPermittedError("an administrator decides an application only after it is "
                                    "escalated past its deadline")
        raise NotPermittedError("only a publisher of the providing department decides this application")


def event_topics(event_name: str) -> list[str]:
    """Every topic an ``AccessApplication.<event_name>`` event may be stored under: this
    module's, and the former module's for events written before the move. Selecting
    notifications by topic must name them all, or older applications silently drop out."""
    return [f"{module}:{AccessApplication.__qualname__}.{event_name}"
            for module in (__name__, FORMER_MODULE)]


def _text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > MAX_TEXT:
        raise InvalidInputError(f"{field.replace('_', ' ')} is required (at most {MAX_TEXT} characters)",
                                field=field)
    return value
