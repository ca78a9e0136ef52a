"""Business failures of mutations come back as data: ``errors { field message code }``."""

from __future__ import annotations

from enum import Enum
from typing import Any

import graphene

from domain.errors import DomainError


def user_error_type(name: str, code_enum: type[graphene.Enum]) -> type[graphene.ObjectType]:
    """A payload error type with a code enum of its own domain."""
    return type(name, (graphene.ObjectType,), {
        "__doc__": "Why a mutation changed nothing; `field` names the input at fault, if one.",
        "field": graphene.String(description="The input field at fault (dotted path), if any."),
        "message": graphene.String(required=True, description="What is wrong, for a person."),
        "code": graphene.Field(code_enum, required=True, description="A stable code for programs."),
    })


def as_user_error(error: DomainError, known_codes: set[str], prefix: str | None = None) -> dict[str, Any]:
    """The payload form of a domain error; ``prefix`` names the argument a nested field sits in."""
    code = error.code if error.code in known_codes else "INVALID_INPUT"
    field = _camel_path(error.field)
    if prefix and field:
        field = f"{prefix}.{field}"
    return {"field": field, "message": error.message, "code": code}


def _camel_path(path: str | None) -> str | None:
    if not path:
        return path

    def camel(part: str) -> str:
        head, *rest = part.split("_")
        return head + "".join(p[:1].upper() + p[1:] for p in rest)

    return ".".join(camel(p) for p in path.split("."))


def plain(value: Any) -> Any:
    """GraphQL input (input objects, enums) as plain dicts, lists and strings."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value



def attempt(known_codes: set[str], command: Any, present: Any) -> dict[str, Any]:
    """Run a use case for a mutation: ``present(result)`` and no errors, or the domain's refusal
    as a payload error (nothing else in the payload)."""
    try:
        result = command()
    except DomainError as error:
        return {"errors": [as_user_error(error, known_codes)]}
    return {**present(result), "errors": []}
