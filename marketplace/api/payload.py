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


def as_user_error(error: DomainError, known_codes: set[str]) -> dict[str, Any]:
    code = error.code if error.code in known_codes else "INVALID_INPUT"
    return {"field": _camel_path(error.field), "message": error.message, "code": code}


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

