"""Organisations in the entitlements read model: each organisation with its members, open
invitations and sponsored startups, and one membership row per member (so "my organisations"
is one lookup by user)."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from marketplace.projections.market.documents import (
    Changes,
    DocumentReads,
    Handler,
    Row,
)


class MemberEntry(TypedDict):
    """A member as their organisation lists them."""

    name: str
    #: owner / admin / member
    role: str


class OrganisationDoc(TypedDict):
    """Kind ``organisation``, keyed by its id; ``org`` its id too, ``extra`` its credit code."""

    id: str
    #: 统一社会信用代码 (GB 32100)
    credit_code: str
    name: str
    #: startup / maker_space
    kind: str
    #: user id → the member
    members: dict[str, MemberEntry]
    #: e-mail address → the role offered
    invitations: dict[str, str]
    #: the startups a maker-space sponsors (organisation ids)
    sponsored: list[str]
    registered_at: str


class MembershipDoc(TypedDict):
    """Kind ``membership``, keyed ``<user id>:<organisation id>``; ``extra`` the user."""

    user_id: str
    organisation_id: str
    role: str


def _member_row(changes: Changes, org: str, user_id: str, role: str) -> None:
    changes.put("membership", f"{user_id}:{org}", Row(org, None, user_id, dict(MembershipDoc(
        user_id=user_id, organisation_id=org, role=role))))


def _organisation(changes: Changes, name: str, e: Any, key: str, at: str) -> None:
    if name == "Registered":
        owner = e.by["id"]
        changes.put("organisation", key, Row(key, None, e.credit_code, dict(OrganisationDoc(
            id=key, credit_code=e.credit_code, name=e.name, kind=e.kind,
            members={owner: MemberEntry(name=e.by["name"], role="owner")}, invitations={},
            sponsored=[], registered_at=at))))
        _member_row(changes, key, owner, "owner")
        return
    row = changes.get("organisation", key)
    if row is None:
        return
    doc = row.doc
    if name == "MemberAdded":
        doc["members"][e.user_id] = {"name": e.name, "role": e.role}
        _member_row(changes, key, e.user_id, e.role)
    elif name == "Invited":
        doc["invitations"][e.email] = e.role
    elif name == "InvitationAccepted":
        doc["invitations"].pop(e.email, None)
        doc["members"][e.user_id] = {"name": e.name, "role": e.role}
        _member_row(changes, key, e.user_id, e.role)
    elif name == "MemberRemoved":
        doc["members"].pop(e.user_id, None)
        changes.delete("membership", f"{e.user_id}:{key}")
    elif name == "StartupSponsored":
        doc["sponsored"].append(e.organisation_id)
    elif name == "SponsorshipEnded" and e.organisation_id in doc["sponsored"]:
        doc["sponsored"].remove(e.organisation_id)


#: The aggregates (by class name) whose events this module handles.
HANDLERS: dict[str, Handler] = {"Organisation": _organisation}


class OrganisationReads(DocumentReads):
    """Organisations and whose they are, typed."""

    def organisation(self, organisation_id: str) -> OrganisationDoc | None:
        return cast("OrganisationDoc | None", self._get("organisation", organisation_id))

    def organisations_of(self, user_id: str) -> list[OrganisationDoc]:
        """The organisations the user is a member of, oldest first."""
        memberships = cast(list[MembershipDoc], self._select("membership", extra=user_id))
        found = [self.organisation(m["organisation_id"]) for m in memberships
                 if m.get("organisation_id")]
        return sorted((d for d in found if d), key=lambda d: d["registered_at"])
