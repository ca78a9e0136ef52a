"""Organisation mutations: sign up, register an organisation, add or invite members, accept an
invitation, switch the organisation you act for, create and revoke API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene

from domain.errors import NotFoundError
from marketplace.api.auth import issue_token, require_member
from marketplace.api.organisations import types as t
from marketplace.api.organisations.errors import KNOWN, OrganisationError
from marketplace.api.payload import attempt, plain


def _errors() -> graphene.List:
    return graphene.List(graphene.NonNull(OrganisationError), required=True)



class AccountPayload(graphene.ObjectType):
    account = graphene.Field(t.MemberAccount)
    token = graphene.String(description="A JWT acting as this member (log in again when it expires).")
    expires_at = graphene.DateTime()
    errors = _errors()


class OrganisationPayload(graphene.ObjectType):
    organisation = graphene.Field(t.Organisation)
    errors = _errors()


class CreateApiKeyPayload(graphene.ObjectType):
    api_key = graphene.Field(t.ApiKey)
    plaintext = graphene.String(description="The key itself, `dbk_...`: shown this once, never again.")
    errors = _errors()


class ApiKeyPayload(graphene.ObjectType):
    api_key = graphene.Field(t.ApiKey)
    errors = _errors()


def _signed_in(info: Any, account: Any) -> dict:
    token, claims = issue_token(info, account.actor())
    return {"account": t.account_dict(account), "token": token, "expires_at": claims.expires_at}


class SignUp(graphene.Mutation):
    """Open a member account (anyone may) and log in; then register or join an organisation."""

    class Arguments:
        email = graphene.String(required=True)
        name = graphene.String(required=True)
        password = graphene.String(required=True)

    Output = AccountPayload

    @staticmethod
    def mutate(root: Any, info: Any, email: str, name: str, password: str) -> dict:
        return attempt(KNOWN, lambda: info.context.members.sign_up(
            email=email, name=name, password=password), lambda a: _signed_in(info, a))


class SwitchOrganisation(graphene.Mutation):
    """Act for another of your organisations: answers with a new token that carries it."""

    class Arguments:
        organisation_id = graphene.ID(required=True)

    Output = AccountPayload

    @staticmethod
    def mutate(root: Any, info: Any, organisation_id: str) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: info.context.members.switch_organisation(
            actor.user_id, organisation_id), lambda a: _signed_in(info, a))


def _organisation(info: Any, organisation: Any) -> dict:
    return {"organisation": info.context.organisation_queries.organisation(
        str(organisation.id), fresh=True)}


class RegisterOrganisation(graphene.Mutation):
    """Register your startup or maker-space (unified social credit code checked, GB 32100); you
    become its owner. Log in again (or switch) for a token that acts for it."""

    class Arguments:
        credit_code = graphene.String(required=True)
        name = graphene.String(required=True)
        kind = t.OrganisationKind(default_value=t.OrganisationKind.STARTUP.value)

    Output = OrganisationPayload

    @staticmethod
    def mutate(root: Any, info: Any, credit_code: str, name: str, kind: Any) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: info.context.organisations.register_organisation(
            credit_code=credit_code, name=name, kind=plain(kind), by=actor),
            lambda o: _organisation(info, o))


class AddOrganisationMember(graphene.Mutation):
    """Add a person who has a member account (owners)."""

    class Arguments:
        organisation_id = graphene.ID(required=True)
        email = graphene.String(required=True)
        role = t.MemberRole(default_value=t.MemberRole.MEMBER.value)

    Output = OrganisationPayload

    @staticmethod
    def mutate(root: Any, info: Any, organisation_id: str, email: str, role: Any) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: info.context.organisations.add_member(
            organisation_id, email=email, role=plain(role), by=actor),
            lambda o: _organisation(info, o))


class InviteMember(graphene.Mutation):
    """Invite a person by e-mail (owners); they join by accepting after signing up."""

    class Arguments:
        organisation_id = graphene.ID(required=True)
        email = graphene.String(required=True)
        role = t.MemberRole(default_value=t.MemberRole.MEMBER.value)

    Output = OrganisationPayload

    @staticmethod
    def mutate(root: Any, info: Any, organisation_id: str, email: str, role: Any) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: info.context.organisations.invite(
            organisation_id, email=email, role=plain(role), by=actor),
            lambda o: _organisation(info, o))


class AcceptInvitation(graphene.Mutation):
    """Join an organisation that invited your e-mail address."""

    class Arguments:
        organisation_id = graphene.ID(required=True)

    Output = OrganisationPayload

    @staticmethod
    def mutate(root: Any, info: Any, organisation_id: str) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: info.context.organisations.accept_invitation(
            organisation_id, by=actor), lambda o: _organisation(info, o))


class CreateApiKey(graphene.Mutation):
    """Create a named, scoped, optionally expiring API key for your organisation; the answer
    carries the key itself once — store it, it is kept only as a hash."""

    class Arguments:
        name = graphene.String(required=True)
        scopes = graphene.List(graphene.NonNull(graphene.String), required=True,
                               description="catalogue:read, rows:read, exports:read, usage:read")
        expires_at = graphene.DateTime()
        organisation_id = graphene.ID(description="Defaults to the organisation you act for.")

    Output = CreateApiKeyPayload

    @staticmethod
    def mutate(root: Any, info: Any, name: str, scopes: list[str],
               expires_at: datetime | None = None, organisation_id: str | None = None) -> dict:
        actor = require_member(info)
        return attempt(KNOWN, lambda: info.context.api_keys.create_api_key(
            organisation_id or actor.organisation_id, name=name, scopes=scopes,
            expires_at=expires_at, by=actor),
            lambda issued: {"api_key": _key(info, issued[0]), "plaintext": issued[1]})


class RevokeApiKey(graphene.Mutation):
    """Revoke a key at once (its organisation's members, or administrators)."""

    class Arguments:
        key_id = graphene.ID(required=True)

    Output = ApiKeyPayload

    @staticmethod
    def mutate(root: Any, info: Any, key_id: str) -> dict:
        actor = info.context.actor
        return attempt(KNOWN, lambda: _revoke(info, key_id, actor),
                       lambda key: {"api_key": _key(info, key)})


def _revoke(info: Any, key_id: str, actor: Any) -> Any:
    if info.context.api_keys.get_api_key(key_id) is None:
        raise NotFoundError("no such API key", field="key_id")
    return info.context.api_keys.revoke_api_key(key_id, by=actor)


def _key(info: Any, key: Any) -> dict | None:
    return info.context.organisation_queries.api_key(key.organisation_id, str(key.id), fresh=True)


class OrganisationMutations(graphene.ObjectType):
    sign_up = SignUp.Field()
    switch_organisation = SwitchOrganisation.Field()
    register_organisation = RegisterOrganisation.Field()
    add_organisation_member = AddOrganisationMember.Field()
    invite_member = InviteMember.Field()
    accept_invitation = AcceptInvitation.Field()
    create_api_key = CreateApiKey.Field()
    revoke_api_key = RevokeApiKey.Field()
