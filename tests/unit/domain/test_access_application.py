"""Conditional-opening applications: working-day deadlines, who decides, escalation, agreements."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from eventsourcing.application import Application

from domain.actors import Actor, Role
from domain.access_application import AccessApplication, add_working_days
from domain.errors import (
    ApplicationRequiredError,
    InvalidInputError,
    InvalidStateError,
    NotConditionalError,
    NotPermittedError,
)

CST = timezone(timedelta(hours=8))
MEMBER = Actor("u1", "陈创", Role.MEMBER)
PROVIDER = Actor("p1", "王芳", Role.PUBLISHER, "dept-health")
OTHER_PUBLISHER = Actor("p2", "李强", Role.PUBLISHER, "dept-transport")
ADMIN = Actor("a1", "管理员", Role.ADMIN)
MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=CST)


def _submit(**overrides) -> AccessApplication:
    values = {"organisation_id": "org-1", "asset_id": "asset-clinics", "asset_department_id": "dept-health",
              "asset_open_type": "conditional", "purpose": "研究基层医疗资源分布",
              "scenario": "皖西学院公共卫生课题", "security_commitment": "仅在内网分析，不对外提供",
              "submitted_at": MONDAY, "by": MEMBER}
    return AccessApplication.submit(**{**values, **overrides})


# ---- working days --------------------------------------------------------------------------

@pytest.mark.parametrize("start, n, expected", [
    (date(2026, 3, 2), 5, date(2026, 3, 9)),   # Monday + 5 → next Monday
    (date(2026, 3, 6), 1, date(2026, 3, 9)),   # Friday + 1 → Monday
    (date(2026, 3, 7), 1, date(2026, 3, 9)),   # Saturday + 1 → Monday
    (date(2026, 3, 8), 5, date(2026, 3, 13)),  # Sunday + 5 → Friday
    (date(2026, 3, 4), 10, date(2026, 3, 18)),  # two weekends crossed
    (date(2026, 3, 4), 0, date(2026, 3, 4)),
])
def test_working_days_skip_weekends(start, n, expected) -> None:
    assert add_working_days(start, n) == expected


def test_holidays_are_skipped_and_makeup_weekend_days_count() -> None:
    national_day = frozenset(date(2026, 10, d) for d in range(1, 8))
    assert add_working_days(date(2026, 9, 30), 1, national_day) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 25), 1, makeup_days=frozenset({date(2026, 9, 26)})) == date(2026, 9, 26)


def test_a_negative_number_of_working_days_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1)


# ---- submission ----------------------------------------------------------------------------

def test_an_application_is_due_five_working_days_after_submission_by_default() -> None:
    application = _submit(submitted_at=datetime(2026, 3, 6, 15, 0, tzinfo=CST))  # a Friday
    assert (application.status, application.deadline) == ("submitted", "2026-03-13")
    assert _submit(review_days=10).deadline_date == date(2026, 3, 16)


def test_the_deadline_counts_from_the_date_in_china_time() -> None:
    late_sunday_utc = datetime(2026, 3, 8, 17, 0, tzinfo=timezone.utc)  # Monday 01:00 in Lu'an
    assert _submit(submitted_at=late_sunday_utc).deadline == "2026-03-16"


def test_an_asset_that_is_not_conditionally_open_takes_no_applications() -> None:
    for open_type in ("unconditional", "not_open"):
        with pytest.raises(NotConditionalError) as caught:
            _submit(asset_open_type=open_type)
        assert caught.value.code == "NOT_CONDITIONAL"


@pytest.mark.parametrize("field", ["purpose", "scenario", "security_commitment"])
def test_purpose_scenario_and_security_commitment_are_required(field) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _submit(**{field: "  "})
    assert caught.value.field == field


def test_a_naive_submission_time_or_a_staff_applicant_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        _submit(submitted_at=datetime(2026, 3, 2, 9, 30))
    with pytest.raises(NotPermittedError):
        _submit(by=PROVIDER)


# ---- decisions -----------------------------------------------------------------------------

def test_the_providing_department_approves_under_a_use_agreement_without_onward_transfer() -> None:
    application = _submit()
    application.approve(scope="仅限课题组内部研究", period_end=date(2026, 12, 31), by=PROVIDER)
    assert application.status == "approved"
    assert application.agreement == {"scope": "仅限课题组内部研究", "period_end": "2026-12-31",
                                     "onward_transfer": False}


def test_another_department_cannot_decide_and_an_administrator_only_after_escalation() -> None:
    application = _submit()
    for actor in (OTHER_PUBLISHER, ADMIN, MEMBER):
        with pytest.raises(NotPermittedError):
            application.approve(scope="x", period_end=date(2026, 12, 31), by=actor)
    assert application.status == "submitted"


def test_a_rejection_needs_reasons() -> None:
    application = _submit()
    with pytest.raises(InvalidInputError):
        application.reject(reasons=["", " "], by=PROVIDER)
    application.reject(reasons=["用途与数据范围不符"], by=PROVIDER)
    assert (application.status, application.reasons) == ("rejected", ["用途与数据范围不符"])


def test_a_decided_application_cannot_be_decided_again() -> None:
    application = _submit()
    application.reject(reasons=["不符"], by=PROVIDER)
    with pytest.raises(InvalidStateError):
        application.approve(scope="x", period_end=date(2026, 12, 31), by=PROVIDER)


def test_an_agreement_must_end_after_the_submission_date() -> None:
    with pytest.raises(InvalidInputError) as caught:
        _submit().approve(scope="x", period_end=date(2026, 3, 2), by=PROVIDER)
    assert caught.value.field == "period_end"


def test_escalation_happens_only_after_the_deadline_day_has_passed() -> None:
    application = _submit()  # due Monday 2026-03-09
    assert not application.escalate_if_overdue(datetime(2026, 3, 9, 23, 59, tzinfo=CST))
    assert application.status == "submitted"
    assert application.escalate_if_overdue(datetime(2026, 3, 10, 0, 0, tzinfo=CST))
    assert application.status == "escalated"
    assert not application.escalate_if_overdue(datetime(2026, 3, 11, tzinfo=CST))


def test_a_decided_application_is_never_escalated() -> None:
    application = _submit()
    application.reject(reasons=["不符"], by=PROVIDER)
    assert not application.escalate_if_overdue(datetime(2026, 4, 1, tzinfo=CST))
    assert application.status == "rejected"


def test_after_escalation_an_administrator_may_decide() -> None:
    application = _submit()
    application.escalate_if_overdue(datetime(2026, 3, 20, tzinfo=CST))
    application.approve(scope="课题研究", period_end=date(2026, 6, 30), by=ADMIN)
    assert application.status == "approved"


def test_an_approved_application_grants_only_its_organisation_and_asset_within_its_period() -> None:
    application = _submit()
    with pytest.raises(ApplicationRequiredError):
        application.check_grants(organisation_id="org-1", asset_id="asset-clinics", on=date(2026, 3, 3))
    application.approve(scope="课题研究", period_end=date(2026, 6, 30), by=PROVIDER)
    assert application.check_grants(organisation_id="org-1", asset_id="asset-clinics",
                                    on=date(2026, 6, 30)) == str(application.id)
    for org, asset, on in (("org-2", "asset-clinics", date(2026, 4, 1)),
                           ("org-1", "asset-other", date(2026, 4, 1)),
                           ("org-1", "asset-clinics", date(2026, 7, 1))):
        with pytest.raises(ApplicationRequiredError):
            application.check_grants(organisation_id=org, asset_id=asset, on=on)


def test_an_application_round_trips_through_the_event_store_to_the_same_state() -> None:
    application = _submit()
    application.escalate_if_overdue(datetime(2026, 3, 20, tzinfo=CST))
    application.approve(scope="课题研究", period_end=date(2026, 6, 30), by=ADMIN)
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(application)
    loaded = app.repository.get(application.id)
    assert vars(loaded) == vars(application)
    assert loaded.submitted_at == MONDAY and loaded.deadline_date == date(2026, 3, 9)
    assert [type(e).__name__ for e in app.repository.event_store.get(application.id)] == [
        "Submitted", "Escalated", "Approved"]
