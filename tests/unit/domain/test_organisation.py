"""Organisations: credit-code identity, owners and members, invitations, maker-space sponsorship."""

from __future__ import annotations

import pytest
from eventsourcing.application import Application

from domain.actors import Actor, Role
from domain.errors import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidStateError,
    LastOwnerError,
    NotFoundError,
    NotPermittedError,
)
from domain.organisation import MemberRole, Organisation

OWNER = Actor("u-owner", "陈创", Role.MEMBER)
COLLEAGUE = Actor("u-colleague", "刘工", Role.MEMBER)
OUTSIDER = Actor("u-outsider", "路人", Role.MEMBER)
ADMIN = Actor("a1", "管理员", Role.ADMIN)
PUBLISHER = Actor("p1", "王芳", Role.PUBLISHER, "dept-transport")
STARTUP_CODE, SPACE_CODE = "91320621MA1MRHG205", "91341500MA2N001160"


def _startup(by: Actor = OWNER) -> Organisation:
    return Organisation.register(credit_code=STARTUP_CODE, name="六安云数科技有限公司", kind="startup", by=by)


def _maker_space() -> Organisation:
    return Organisation.register(credit_code=SPACE_CODE, name="皖西众创空间", kind="maker_space", by=OWNER)


def test_the_registering_member_becomes_the_owner_and_the_id_comes_from_the_credit_code() -> None:
    org = _startup()
    assert org.id == Organisation.create_id(STARTUP_CODE)
    assert org.role_of("u-owner") is MemberRole.OWNER
    assert org.members == {"u-owner": {"name": "陈创", "role": "owner"}}


def test_a_lower_case_credit_code_is_normalised() -> None:
    org = Organisation.register(credit_code=" 91320621ma1mrhg205 ", name="x", kind="startup", by=OWNER)
    assert org.credit_code == STARTUP_CODE


@pytest.mark.parametrize("code, words", [
    ("91320621MA1MRHG207", "check character"),
    ("9132062", "18 characters"),
    ("91320621MA1MRHG2O5", "not allowed"),
])
def test_an_invalid_credit_code_is_refused_naming_the_problem(code, words) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Organisation.register(credit_code=code, name="x", kind="startup", by=OWNER)
    assert (caught.value.field, caught.value.code) == ("credit_code", "INVALID_CREDIT_CODE")
    assert words in caught.value.message


def test_an_unknown_kind_or_missing_name_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Organisation.register(credit_code=STARTUP_CODE, name="x", kind="company", by=OWNER)
    assert caught.value.field == "kind"
    with pytest.raises(InvalidInputError) as caught:
        Organisation.register(credit_code=STARTUP_CODE, name=" ", kind="startup", by=OWNER)
    assert caught.value.field == "name"


def test_staff_do_not_register_organisations() -> None:
    with pytest.raises(NotPermittedError):
        _startup(by=PUBLISHER)


def test_an_owner_adds_members_and_only_owners_or_administrators_may() -> None:
    org = _startup()
    org.add_member(user_id="u-colleague", name="刘工", role="member", by=OWNER)
    with pytest.raises(NotPermittedError):
        org.add_member(user_id="u-outsider", name="路人", role="member", by=COLLEAGUE)
    org.add_member(user_id="u-outsider", name="路人", role="member", by=ADMIN)
    assert set(org.members) == {"u-owner", "u-colleague", "u-outsider"}


def test_adding_a_member_twice_is_refused() -> None:
    org = _startup()
    with pytest.raises(AlreadyExistsError):
        org.add_member(user_id="u-owner", name="陈创", role="member", by=OWNER)


def test_check_member_accepts_members_and_refuses_outsiders() -> None:
    org = _startup()
    org.check_member(OWNER)
    with pytest.raises(NotPermittedError):
        org.check_member(OUTSIDER)


def test_an_invited_person_joins_with_the_invited_role_when_accepting_with_that_address() -> None:
    org = _startup()
    org.invite(email="Liu@Example.cn", role="owner", by=OWNER)
    with pytest.raises(NotFoundError):
        org.accept_invitation(email="other@example.cn", by=COLLEAGUE)
    org.accept_invitation(email="liu@example.cn", by=COLLEAGUE)
    assert org.role_of("u-colleague") is MemberRole.OWNER
    assert org.invitations == {}


def test_an_invalid_or_repeated_invitation_is_refused() -> None:
    org = _startup()
    with pytest.raises(InvalidInputError) as caught:
        org.invite(email="not-an-address", by=OWNER)
    assert caught.value.field == "email"
    org.invite(email="liu@example.cn", by=OWNER)
    with pytest.raises(AlreadyExistsError):
        org.invite(email="liu@example.cn", by=OWNER)


def test_the_last_owner_cannot_be_removed_but_a_member_can() -> None:
    org = _startup()
    org.add_member(user_id="u-colleague", name="刘工", role="member", by=OWNER)
    with pytest.raises(LastOwnerError):
        org.remove_member(user_id="u-owner", by=OWNER)
    org.remove_member(user_id="u-colleague", by=OWNER)
    assert list(org.members) == ["u-owner"]
    with pytest.raises(NotFoundError):
        org.remove_member(user_id="u-colleague", by=OWNER)


def test_a_maker_space_sponsors_a_startup_once_and_can_end_it() -> None:
    space, startup = _maker_space(), _startup()
    space.sponsor(startup, by=OWNER)
    assert space.sponsored == [str(startup.id)]
    with pytest.raises(AlreadyExistsError):
        space.sponsor(startup, by=OWNER)
    space.end_sponsorship(str(startup.id), by=OWNER)
    assert space.sponsored == []
    with pytest.raises(NotFoundError):
        space.end_sponsorship(str(startup.id), by=OWNER)


def test_only_a_maker_space_sponsors_and_only_startups() -> None:
    space, startup = _maker_space(), _startup()
    with pytest.raises(InvalidStateError):
        startup.sponsor(space, by=OWNER)
    with pytest.raises(InvalidInputError):
        space.sponsor(space, by=OWNER)


def test_an_organisation_replays_and_round_trips_to_the_same_state() -> None:
    org = _startup()
    org.add_member(user_id="u-colleague", name="刘工", role="member", by=OWNER)
    org.invite(email="zhao@example.cn", by=OWNER)
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(org)
    assert vars(app.repository.get(org.id)) == vars(org)
    copy = None
    for domain_event in app.repository.event_store.get(org.id):
        copy = domain_event.mutate(copy)
    assert copy.members == org.members and copy.invitations == {"zhao@example.cn": "member"}
