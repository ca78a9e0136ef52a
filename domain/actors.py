"""Who acts: every command names its actor, and every event records them (the audit trail)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    PUBLISHER = "publisher"
    MEMBER = "member"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    """A person (or program) acting in the data bank.

    :param user_id: the staff account or member id (a string, stable forever)
    :param name: the display name recorded in the history
    :param role: what they may do
    :param department_id: the department a publisher publishes for, or a reviewer belongs to
    :param organisation_id: the organisation (startup or maker-space) a member acts for
    """

    user_id: str
    name: str
    role: Role
    department_id: str | None = None
    organisation_id: str | None = None

    def record(self) -> dict[str, str | None]:
        """The actor as event data: plain values, readable in the log forever."""
        return {"id": self.user_id, "name": self.name, "role": self.role.value,
                "department_id": self.department_id, "organisation_id": self.organisation_id}


ANONYMOUS = Actor(user_id="anonymous", name="anonymous", role=Role.ANONYMOUS)
