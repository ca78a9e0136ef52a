"""Access applications (有条件开放申请): a member applies for a conditionally open asset, the
providing department decides within N working days, overdue applications go to the
administrators.

The use-case methods keep their short names (``submit_application``, ``approve_application``,
...): the verbs say which application is meant. The applications are saved in the ``Market``
(store.py), the market's one event store."""

from __future__ import annotations

from datetime import date, datetime

from domain.access_application import (DEFAULT_REVIEW_DAYS, AccessApplication, ApplicationStatus,
                                       event_topics)
from domain.actors import Actor
from domain.calendar import WEEKENDS_ONLY, HolidayCalendar, china_date
from marketplace.services.market.store import Market, open_type_of

# The Submitted event under the current and the former module topic: applications submitted
# before domain.application became domain.access_application must still escalate.
SUBMITTED_TOPICS = event_topics("Submitted")


class AccessApplications:
    """Submit, decide and escalate access applications."""

    def __init__(self, market: Market, *, review_days: int = DEFAULT_REVIEW_DAYS,
                 calendar: HolidayCalendar = WEEKENDS_ONLY) -> None:
        """
        :param market: the market's event store
        :param review_days: working days a department has to answer an access application
        :param calendar: the holidays and 调休 workdays those working days skip and count (the
            composition root passes the configured one: by default the official calendar)
        """
        self.market = market
        self.review_days = review_days
        self.calendar = calendar

    def today(self) -> date:
        """Today in China, by the market's clock: the day deadlines are counted against."""
        return china_date(self.market.clock())

    def submit_application(self, organisation_id: str, asset_id: str, *, purpose: str,
                           scenario: str, security_commitment: str, by: Actor) -> AccessApplication:
        """Apply for access; the deadline is ``review_days`` working days (of ``calendar``)
        from today."""
        organisation = self.market.organisation_for(organisation_id, by)
        asset = self.market.published_asset(asset_id)
        application = AccessApplication.submit(
            organisation_id=str(organisation.id), asset_id=str(asset.id),
            asset_department_id=asset.department_id, asset_open_type=open_type_of(asset),
            purpose=purpose, scenario=scenario, security_commitment=security_commitment,
            submitted_at=self.market.clock(), review_days=self.review_days, calendar=self.calendar,
            by=by)
        self.market.save(application)
        return application

    def get_application(self, application_id: str) -> AccessApplication | None:
        return self.market.find(AccessApplication, application_id)

    def approve_application(self, application_id: str, *, scope: str, period_end: date,
                            by: Actor) -> AccessApplication:
        """The providing department's publisher (or, once escalated, an administrator) approves."""
        return self.market.change(AccessApplication, application_id, "access application",
                                  "application_id",
                                  lambda a: a.approve(scope=scope, period_end=period_end, by=by))

    def reject_application(self, application_id: str, *, reasons: list[str],
                           by: Actor) -> AccessApplication:
        return self.market.change(AccessApplication, application_id, "access application",
                                  "application_id", lambda a: a.reject(reasons=reasons, by=by))

    def escalate_overdue(self, now: datetime | None = None) -> list[str]:
        """Escalate every application unanswered past its deadline to the administrators;
        returns the ids escalated. Safe to run from several processes (conflicts retry)."""
        now = now or self.market.clock()
        escalated = []
        for application_id in self._submitted_application_ids():
            application = self.market.find(AccessApplication, application_id)
            if application is None or not application.is_overdue(now):
                continue
            changed = self.market.change(AccessApplication, application_id, "access application",
                                         "application_id", lambda a: a.escalate_if_overdue(now))
            if changed.status == ApplicationStatus.ESCALATED.value:
                escalated.append(application_id)
        return escalated

    def _submitted_application_ids(self) -> list[str]:
        # Applications are few (dozens a month): reading their Submitted events from the log is
        # cheaper than keeping another index, and needs no read model to be up to date.
        ids: list[str] = []
        start = 1
        while True:
            batch = self.market.recorder.select_notifications(start, 500, topics=SUBMITTED_TOPICS)
            ids.extend(str(n.originator_id) for n in batch)
            if len(batch) < 500:
                return ids
            start = batch[-1].id + 1
