"""Organisations: a member registers a startup or maker-space, adds or invites colleagues."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError

from domain.actors import Actor
from domain.errors import AlreadyExistsError, NotFoundError
from domain.member import MemberAccount
from domain.organisation import MemberRole, Organisation, OrganisationKind
from marketplace.services.conflicts import retry_on_conflict
from marketplace.services.market.members import Members
from marketplace.services.market.store import Market


class Organisations:
    """Organisations and their members; the one door (``organisation_for_member``) other areas
    use to ask "is this actor a member of that organisation?"."""

    def __init__(self, market: Market, *, members: Members) -> None:
        """
        :param market: the market's event store
        :param members: member accounts, looked up by e-mail when an owner adds a colleague
        """
        self.market = market
        self.members = members

    def register_organisation(self, *, credit_code: str, name: str,
                              kind: OrganisationKind | str = OrganisationKind.STARTUP,
                              by: Actor) -> Organisation:
        """Register an organisation (GB 32100 code checked); the member becomes its owner."""
        organisation = Organisation.register(credit_code=credit_code, name=name, kind=kind, by=by)
        account = self._account(by.user_id)
        account.joined(str(organisation.id))
        try:
            self.market.save(organisation, account)
        except IntegrityError:
            if self.market.find(Organisation, organisation.id) is not None:
                raise AlreadyExistsError(
                    f"an organisation with credit code {organisation.credit_code} is registered",
                    field="credit_code") from None
            raise
        return organisation

    def get_organisation(self, organisation_id: str | None) -> Organisation | None:
        return self.market.find(Organisation, organisation_id)

    def organisation_for_member(self, organisation_id: str | None, by: Actor) -> Organisation:
        """The organisation, when ``by`` is one of its members; "no such organisation"
        (NotFoundError) otherwise, the same answer as when there is none. The public door other
        areas (Billing) use."""
        return self.market.organisation_for(organisation_id, by)

    def add_member(self, organisation_id: str, *, email: str,
                   role: MemberRole | str = MemberRole.MEMBER, by: Actor) -> Organisation:
        """An owner adds a person who already has an account."""
        def attempt() -> Organisation:
            organisation = self.market.organisation_for(organisation_id, by, admin=True)
            account = self.members.find_member_by_email(email)
            if account is None:
                raise NotFoundError(f"no member account for {email}; invite them instead",
                                    field="email")
            organisation.add_member(user_id=str(account.id), name=account.name, role=role, by=by)
            account.joined(str(organisation.id))
            self.market.save(organisation, account)
            return organisation

        return retry_on_conflict(attempt)

    def invite(self, organisation_id: str, *, email: str,
               role: MemberRole | str = MemberRole.MEMBER, by: Actor) -> Organisation:
        """An owner invites a person by e-mail; they join by accepting after signing up."""
        # Strangers get "no such organisation", before anything else is looked at.
        self.market.organisation_for(organisation_id, by, admin=True)
        return self.market.change(Organisation, organisation_id, "organisation", "organisation_id",
                                  lambda o: o.invite(email=email, role=role, by=by))

    def accept_invitation(self, organisation_id: str, *, by: Actor) -> Organisation:
        """Join an organisation that invited the account's e-mail address."""
        def attempt() -> Organisation:
            organisation = self.market.find(Organisation, organisation_id)
            account = self._account(by.user_id)
            if organisation is None or account.email not in organisation.invitations:
                # The same answer whether the organisation is missing or did not invite you.
                raise NotFoundError("no invitation to that organisation for you",
                                    field="organisation_id")
            organisation.accept_invitation(email=account.email, by=account.actor())
            account.joined(str(organisation.id))
            self.market.save(organisation, account)
            return organisation

        return retry_on_conflict(attempt)

    def remove_member(self, organisation_id: str, *, user_id: str, by: Actor) -> Organisation:
        def attempt() -> Organisation:
            organisation = self.market.organisation_for(organisation_id, by, admin=True)
            organisation.remove_member(user_id=user_id, by=by)
            account = self.market.find(MemberAccount, user_id)
            if account is not None:
                account.left(str(organisation.id))
            self.market.save(organisation, account)
            return organisation

        return retry_on_conflict(attempt)

    def _account(self, user_id: str) -> MemberAccount:
        return self.market.require(MemberAccount, user_id, "member account", "user_id")
