"""Access applications (有条件开放申请) in the entitlements read model: who applied for which
conditionally open asset, the department that decides, the deadline, and the decision."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from marketplace.projections.market.documents import (
    Changes,
    DocumentReads,
    Handler,
    Row,
    iso,
)
from marketplace.projections.market.notifications import notify


class UseAgreementDoc(TypedDict):
    """What an approval binds (``domain.access_application``): scope, period, onward transfer."""

    scope: str
    #: ISO date, the last day of use
    period_end: str
    onward_transfer: bool


class AccessApplicationDoc(TypedDict):
    """Kind ``access_application``, keyed by its id; ``org`` the applying organisation, ``asset``
    the asset, ``extra`` the providing department."""

    id: str
    organisation_id: str
    asset_id: str
    #: the providing department, who decides
    department_id: str
    purpose: str
    scenario: str
    security_commitment: str
    submitted_at: str
    submitted_by: str
    #: ISO date (China time): the last day to answer
    deadline: str
    #: submitted / escalated / approved / rejected
    status: str
    agreement: UseAgreementDoc | None
    #: a rejection's reasons
    reasons: list[str]
    escalated: bool
    escalated_at: str | None
    decided_by: str | None
    decided_at: str | None


def _access_application(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Submitted":
        changes.put("access_application", key, Row(
            e.organisation_id, e.asset_id, e.asset_department_id, dict(AccessApplicationDoc(
                id=key, organisation_id=e.organisation_id, asset_id=e.asset_id,
                department_id=e.asset_department_id, purpose=e.purpose, scenario=e.scenario,
                security_commitment=e.security_commitment, submitted_at=iso(e.submitted_at),
                submitted_by=e.by["name"], deadline=e.deadline, status="submitted",
                agreement=None, reasons=[], escalated=False, escalated_at=None, decided_by=None,
                decided_at=None))))
        return
    row = changes.get("access_application", key)
    if row is None:
        return
    doc = row.doc
    if name == "Escalated":
        doc.update(status="escalated", escalated=True, escalated_at=iso(e.at))
    elif name in ("Approved", "Rejected"):
        doc.update(status=name.lower(), decided_by=e.by["name"], decided_at=at)
        if name == "Approved":
            doc["agreement"] = e.agreement
        else:
            doc["reasons"] = e.reasons
        notify(changes, e, row.org, row.asset, at, f"application_{name.lower()}",
               application_id=key, reason="; ".join(doc["reasons"]) or None)


#: The aggregates (by class name) whose events this module handles.
HANDLERS: dict[str, Handler] = {"AccessApplication": _access_application}


class AccessApplicationReads(DocumentReads):
    """Access applications, typed."""

    def access_applications(self, *, organisation_id: str | None = None,
                            department_id: str | None = None) -> list[AccessApplicationDoc]:
        """An organisation's access applications, or those to a department (neither: all),
        newest first."""
        docs = cast(list[AccessApplicationDoc], self._select(
            "access_application", org=organisation_id, extra=department_id))
        return sorted(docs, key=lambda d: d["submitted_at"], reverse=True)

    def access_application(self, application_id: str) -> AccessApplicationDoc | None:
        return cast("AccessApplicationDoc | None", self._get("access_application", application_id))
