"""订阅: an organisation's licence grant for one plan of one data asset.

pending_payment → active ⇄ suspended (unpaid); any of these → expired; revoked (breach) is
final and cuts access at once. The subscriber accepted one terms version and the plan's values
as they were (a copy): later terms and plan changes never reach an existing subscription.

One subscription per (organisation, plan): the id is natural, so subscribing twice collides in
the event store; an expired subscription is renewed in place (``renew``).
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Mapping
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import (
    ApplicationRequiredError,
    InvalidInputError,
    InvalidStateError,
    NotOpenError,
    NotPermittedError,
    OutdatedTermsError,
    PlanRetiredError,
)
from domain.ids import natural_id
from domain.licensing import is_free_price
from domain.metadata import OpenType

MAX_REASON = 2000


class SubscriptionStatus(str, Enum):
    PENDING_PAYMENT = "pending_payment"
    ACTIVE = "active"
    SUSPENDED = "suspended"  # unpaid
    REVOKED = "revoked"  # breach: final
    EXPIRED = "expired"


@dataclass(frozen=True)
class Entitlement:
    """What a subscription lets its holder do now: the access path's one look-up."""

    subscription_id: str
    organisation_id: str
    asset_id: str
    plan_id: str
    terms_version: int
    status: str
    field_tier: str
    rows_per_month: int | None
    calls_per_month: int | None
    rate_limit_per_minute: int | None
    overage: str
    item_overrides: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def ok(self) -> bool:
        """Data may be served (active; not pending payment, suspended, revoked or expired)."""
        return self.status == SubscriptionStatus.ACTIVE.value

    def item_mode(self, item: str) -> str:
        """``masked``, ``full`` or ``dropped`` for one information item under this grant."""
        return self.item_overrides.get(item, self.field_tier)


class Subscription(Aggregate):
    """A licence grant: who may use which asset, under which terms version and plan values."""

    @staticmethod
    def create_id(organisation_id: str, plan_id: str) -> UUID:
        return natural_id("subscription", f"{organisation_id}:{plan_id}")

    @classmethod
    def start(cls, *, organisation_id: str, plan: Mapping[str, Any], template_current_version: int,
              accepted_terms_version: int, asset_open_type: OpenType | str,
              approved_application_id: str | None = None, by: Actor) -> "Subscription":
        """Subscribe (the service has checked ``by`` is a member of the organisation).

        :param plan: the plan's values, ``Plan.record()``; copied into the subscription
        :param template_current_version: the licence template's current terms version
        :param accepted_terms_version: the version the subscriber read and accepted
        :param asset_open_type: the asset's 开放类型
        :param approved_application_id: for a conditionally open asset, the approved access
            application (checked with ``AccessApplication.check_grants`` by the service)
        """
        values = _check_subscribable(plan, template_current_version, accepted_terms_version,
                                     asset_open_type, approved_application_id, by)
        return cls(organisation_id=str(organisation_id), plan_id=values["plan_id"], plan=values,
                   terms_version=accepted_terms_version, application_id=approved_application_id,
                   status=_first_status(values), by=by.record())

    @event("Started")
    def __init__(self, organisation_id: str, plan_id: str, plan: dict[str, Any], terms_version: int,
                 application_id: str | None, status: str, by: dict[str, Any]) -> None:
        self.organisation_id = organisation_id
        self.plan_id = plan_id
        self.plan = plan
        self.terms_version = terms_version
        self.application_id = application_id
        self.status = status
        self.reason: str | None = None
        self.payment_reference: str | None = None
        self.expires_at: datetime | None = None

    # ---- queries -------------------------------------------------------------------------

    @property
    def lifecycle(self) -> SubscriptionStatus:
        return SubscriptionStatus(self.status)

    @property
    def asset_id(self) -> str:
        return self.plan["asset_id"]

    def entitlement(self) -> Entitlement:
        quotas = self.plan["quotas"]
        return Entitlement(
            subscription_id=str(self.id), organisation_id=self.organisation_id,
            asset_id=self.asset_id, plan_id=self.plan_id, terms_version=self.terms_version,
            status=self.status, field_tier=self.plan["field_tier"],
            rows_per_month=quotas.get("rows_per_month"), calls_per_month=quotas.get("calls_per_month"),
            rate_limit_per_minute=quotas.get("rate_limit_per_minute"), overage=self.plan["overage"],
            item_overrides=dict(self.plan.get("item_overrides") or {}))

    # ---- commands ------------------------------------------------------------------------

    def activate(self, reference: str) -> None:
        """Payment arrived (billing, e.g. a Stripe webhook); repeated deliveries change nothing."""
        if self.lifecycle is SubscriptionStatus.ACTIVE:
            return
        if self.lifecycle is not SubscriptionStatus.PENDING_PAYMENT:
            raise InvalidStateError(f"a {self.status} subscription cannot be activated", field="status")
        self._activated(reference=_required(reference, "reference"))

    @event("Activated")
    def _activated(self, reference: str) -> None:
        self.status = SubscriptionStatus.ACTIVE.value
        self.payment_reference = reference

    def suspend(self, reason: str) -> None:
        """Unpaid: access stops until payment; repeated deliveries change nothing."""
        if self.lifecycle is SubscriptionStatus.SUSPENDED:
            return
        if self.lifecycle is not SubscriptionStatus.ACTIVE:
            raise InvalidStateError(f"a {self.status} subscription cannot be suspended", field="status")
        self._suspended(reason=_required(reason, "reason"))

    @event("Suspended")
    def _suspended(self, reason: str) -> None:
        self.status = SubscriptionStatus.SUSPENDED.value
        self.reason = reason

    def reinstate(self, reference: str = "") -> None:
        """Paid again after a suspension; repeated deliveries change nothing."""
        if self.lifecycle is SubscriptionStatus.ACTIVE:
            return
        if self.lifecycle is not SubscriptionStatus.SUSPENDED:
            raise InvalidStateError(f"a {self.status} subscription cannot be reinstated", field="status")
        self._reinstated(reference=(reference or "").strip()[:200])

    @event("Reinstated")
    def _reinstated(self, reference: str) -> None:
        self.status = SubscriptionStatus.ACTIVE.value
        self.reason = None
        if reference:
            self.payment_reference = reference

    def revoke(self, *, reason: str, by: Actor, provider_department_id: str | None = None) -> None:
        """Breach: revoked at once and for good, by an administrator or the providing department.

        :param provider_department_id: the department that provides the asset (a publisher of it
            may revoke)
        """
        is_provider = (by.role is Role.PUBLISHER and by.department_id is not None
                       and by.department_id == provider_department_id)
        if by.role is not Role.ADMIN and not is_provider:
            raise NotPermittedError("only an administrator or the providing department revokes a licence")
        if self.lifecycle is SubscriptionStatus.REVOKED:
            raise InvalidStateError("the subscription is already revoked", field="status")
        self._revoked(reason=_required(reason, "reason"), by=by.record())

    @event("Revoked")
    def _revoked(self, reason: str, by: dict[str, Any]) -> None:
        self.status = SubscriptionStatus.REVOKED.value
        self.reason = reason

    def expire(self, at: datetime) -> None:
        """The grant ran out (period or agreement end, or the subscriber cancelled)."""
        if self.lifecycle is SubscriptionStatus.EXPIRED:
            return
        if self.lifecycle is SubscriptionStatus.REVOKED:
            raise InvalidStateError("a revoked subscription stays revoked", field="status")
        self._expired(at=at)

    @event("Expired")
    def _expired(self, at: datetime) -> None:
        self.status = SubscriptionStatus.EXPIRED.value
        self.expires_at = at

    def renew(self, *, plan: Mapping[str, Any], template_current_version: int,
              accepted_terms_version: int, asset_open_type: OpenType | str,
              approved_application_id: str | None = None, by: Actor) -> None:
        """Subscribe again after expiry, under the current terms and plan values."""
        if self.lifecycle is not SubscriptionStatus.EXPIRED:
            raise InvalidStateError(f"a {self.status} subscription cannot be renewed", field="status")
        values = _check_subscribable(plan, template_current_version, accepted_terms_version,
                                     asset_open_type, approved_application_id, by)
        if values["plan_id"] != self.plan_id:
            raise InvalidInputError("a subscription renews the same plan", field="plan_id")
        self._renewed(plan=values, terms_version=accepted_terms_version,
                      application_id=approved_application_id, status=_first_status(values),
                      by=by.record())

    @event("Renewed")
    def _renewed(self, plan: dict[str, Any], terms_version: int, application_id: str | None,
                 status: str, by: dict[str, Any]) -> None:
        self.plan = plan
        self.terms_version = terms_version
        self.application_id = application_id
        self.status = status
        self.reason = None
        self.expires_at = None


def _check_subscribable(plan: Mapping[str, Any], template_current_version: int,
                        accepted_terms_version: int, asset_open_type: OpenType | str,
                        approved_application_id: str | None, by: Actor) -> dict[str, Any]:
    if by.role is not Role.MEMBER:
        raise NotPermittedError("a member subscribes on behalf of their organisation")
    if plan.get("retired"):
        raise PlanRetiredError(f"the plan {plan.get('name')!r} is retired", field="plan_id")
    open_type = asset_open_type.value if isinstance(asset_open_type, Enum) else asset_open_type
    if open_type not in (OpenType.UNCONDITIONAL.value, OpenType.CONDITIONAL.value):
        raise NotOpenError("this asset is not open to society", field="asset_id")
    if open_type == OpenType.CONDITIONAL.value and not approved_application_id:
        raise ApplicationRequiredError(
            "a conditionally open asset needs an approved access application", field="application_id")
    if accepted_terms_version != template_current_version:
        raise OutdatedTermsError(
            f"you accepted terms version {accepted_terms_version}, but version "
            f"{template_current_version} is current: read and accept it", field="accepted_terms_version")
    values = {k: deepcopy(v) for k, v in plan.items() if k != "retired"}
    for key in ("plan_id", "asset_id", "price", "quotas", "overage", "field_tier"):
        if key not in values:
            raise InvalidInputError(f"the plan record lacks {key!r}", field="plan")
    values["plan_id"] = str(values["plan_id"])
    return values


def _first_status(plan: Mapping[str, Any]) -> str:
    return (SubscriptionStatus.ACTIVE if is_free_price(plan["price"])
            else SubscriptionStatus.PENDING_PAYMENT).value


def _required(value: str, name: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInputError(f"a {name} is required", field=name)
    return value[:MAX_REASON]
