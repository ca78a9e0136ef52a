"""Access applications (有条件开放申请): a member applies for a conditionally open asset, the
providing department decides within N working days, overdue applications go to the
administrators.

The use-case methods keep their short names (``submit_application``, ``approve_application``,
...): on the Marketplace the verbs say which application is meant, and callers in the API, the
demo seeding and the tests keep working unchanged."""

from __future__ import annotations

from datetime import date, datetime

from domain.access_application import AccessApplication, ApplicationStatus, event_topics
from domain.actors import Actor
from domain.calendar import HolidayCalendar
from marketplace.services.market.base import MarketplaceBase, open_type_of

# The Submitted event under the current and the former module topic: applications submitted
# before domain.application became domain.access_application must still escalate.
SUBMITTED_TOPICS = event_topics("Submitted")


class AccessApplicationUseCases(MarketplaceBase):
    review_days: int
    calendar: HolidayCalendar

    def submit_application(self, organisation_id: str, asset_id: str, *, purpose: str,
                           scenario: str, security_commitment: str, by: Actor) -> AccessApplication:
        """Apply for access; the deadline is ``review_days`` working days (of ``calendar``)
        from today."""
        organisation = self._organisation_for(organisation_id, by)
        asset = self._published_asset(asset_id)
        application = AccessApplication.submit(
            organisation_id=str(organisation.id), asset_id=str(asset.id),
            asset_department_id=asset.department_id, asset_open_type=open_type_of(asset),
            purpose=purpose, scenario=scenario, security_commitment=security_commitment,
            submitted_at=self.clock(), review_days=self.review_days, calendar=self.calendar,
            by=by)
        self.save(application)
        return application

    def get_application(self, application_id: str) -> AccessApplication | None:
        return self._find(AccessApplication, application_id)

    def approve_application(self, application_id: str, *, scope: str, period_end: date,
                            by: Actor) -> AccessApplication:
        """The providing department's publisher (or, once escalated, an administrator) approves."""
        return self._change(AccessApplication, application_id, "access application",
                            "application_id",
                            lambda a: a.approve(scope=scope, period_end=period_end, by=by))

    def reject_application(self, application_id: str, *, reasons: list[str],
                           by: Actor) -> AccessApplication:
        return self._change(AccessApplication, application_id, "access application",
                            "application_id", lambda a: a.reject(reasons=reasons, by=by))

    def escalate_overdue(self, now: datetime | None = None) -> list[str]:
        """Escalate every application unanswered past its deadline to the administrators;
        returns the ids escalated. Safe to run from several processes (conflicts retry)."""
        now = now or self.clock()
        escalated = []
        for application_id in self._submitted_application_ids():
            application = self._find(AccessApplication, application_id)
            if application is None or not application.is_overdue(now):
                continue
            changed = self._change(AccessApplication, application_id, "access application",
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
            batch = self.recorder.select_notifications(start, 500, topics=SUBMITTED_TOPICS)
            ids.extend(str(n.originator_id) for n in batch)
            if len(batch) < 500:
                return ids
            start = batch[-1].id + 1
