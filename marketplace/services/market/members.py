"""Member accounts: public sign-up and login for the people of startups and maker-spaces."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.errors import AlreadyExistsError, InvalidInputError
from domain.member import MemberAccount, normal_email
from marketplace.identity import PasswordHasher, check_password_strength
from marketplace.services.market.store import Market
from marketplace.services.login import check_password


class Members:
    """Member accounts: sign-up, login, the organisation a member acts for."""

    def __init__(self, market: Market, *, hasher: PasswordHasher) -> None:
        """
        :param market: the market's event store
        :param hasher: hashes member passwords (argon2)
        """
        self.market = market
        self.hasher = hasher

    def sign_up(self, *, email: str, name: str, password: str) -> MemberAccount:
        """Open a member account (anyone may); the e-mail address is the login."""
        problem = check_password_strength(password or "")
        if problem:
            raise InvalidInputError(problem, field="password")
        account = MemberAccount.sign_up(email=email, name=name,
                                        password_hash=self.hasher.hash(password))
        try:
            self.market.save(account)
        except IntegrityError:
            raise AlreadyExistsError(f"an account for {account.email} exists; log in instead",
                                     field="email") from None
        return account

    def get_member(self, account_id: UUID | str | None) -> MemberAccount | None:
        return self.market.find(MemberAccount, account_id)

    def find_member_by_email(self, email: str) -> MemberAccount | None:
        try:
            return self.get_member(MemberAccount.create_id(normal_email(email)))
        except InvalidInputError:
            return None

    def authenticate_member(self, email: str, password: str) -> MemberAccount | None:
        """The account when the password matches and it is enabled; None otherwise (no hint why)."""
        return check_password(self.find_member_by_email(email), password, self.hasher,
                              self.market.save)

    def switch_organisation(self, account_id: str, organisation_id: str) -> MemberAccount:
        """Act for another of one's organisations (the next token carries it)."""
        return self.market.change(MemberAccount, account_id, "member account", "account_id",
                                  lambda a: a.switch_organisation(str(organisation_id)))
