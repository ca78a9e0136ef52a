"""提供部门: a government department that provides data assets."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, NotPermittedError
from domain.identifiers import check_uscc
from domain.ids import natural_id


class Department(Aggregate):
    """A provider of data assets, identified by its unified social credit code (提供方代码)."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return natural_id("department", code)

    @classmethod
    def register(cls, *, code: str, name: str, contact: str, by: Actor) -> "Department":
        if by.role is not Role.ADMIN:
            raise NotPermittedError("only a data bank administrator registers departments")
        code = (code or "").strip().upper()
        problem = check_uscc(code)
        if problem is not None:
            raise InvalidInputError(f"provider code {code!r}: {problem.message}", field="code",
                                    code="INVALID_PROVIDER_CODE")
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInputError("a department name of 1 to 100 characters is required", field="name")
        return cls(code=code, name=name, contact=(contact or "").strip()[:200], by=by.record())

    @event("Registered")
    def __init__(self, code: str, name: str, contact: str, by: dict[str, Any]) -> None:
        self.code = code
        self.name = name
        self.contact = contact
