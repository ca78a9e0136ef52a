"""The Marketplace application: member accounts, licence templates, plans, organisations,
subscriptions, access applications and API keys — the aggregates of licensed data use.

One eventsourcing application (one log, followed by the entitlements read model); its use cases
live in small mixins under ``services.market``, one module per area.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from domain.access_application import DEFAULT_REVIEW_DAYS
from domain.calendar import WEEKENDS_ONLY, HolidayCalendar
from marketplace.identity import PasswordHasher
from marketplace.services.catalogue import Catalogue
from marketplace.services.market.access_applications import AccessApplicationUseCases
from marketplace.services.market.api_keys import ApiKeyUseCases
from marketplace.services.market.base import utc_now
from marketplace.services.market.licensing import LicensingUseCases
from marketplace.services.market.members import MemberUseCases
from marketplace.services.market.organisations import OrganisationUseCases
from marketplace.services.market.subscriptions import SubscriptionUseCases


class Marketplace(MemberUseCases, LicensingUseCases, OrganisationUseCases, SubscriptionUseCases,
                  AccessApplicationUseCases, ApiKeyUseCases):
    """Who may use which data, under which terms, with which keys."""

    name = "Marketplace"

    def __init__(self, env: dict[str, str] | None = None, *, catalogue: Catalogue,
                 hasher: PasswordHasher, review_days: int = DEFAULT_REVIEW_DAYS,
                 calendar: HolidayCalendar = WEEKENDS_ONLY,
                 clock: Callable[[], datetime] = utc_now) -> None:
        """
        :param env: the eventsourcing persistence environment (see services.persistence)
        :param catalogue: where assets are looked up (published? open type? department?)
        :param hasher: hashes member passwords (argon2)
        :param review_days: working days a department has to answer an access application
        :param calendar: the holidays and 调休 workdays those working days skip and count (the
            composition root passes the configured one: by default the official calendar)
        :param clock: the current time, timezone-aware (inject to control time in tests)
        """
        super().__init__(env)
        self.catalogue = catalogue
        self.hasher = hasher
        self.review_days = review_days
        self.calendar = calendar
        self.clock = clock
