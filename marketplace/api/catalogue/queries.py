"""Catalogue queries: anyone searches the published catalogue; staff also see unpublished work."""

from __future__ import annotations

from typing import Any

import graphene

from domain.actors import Role
from marketplace.api.catalogue import types as t
from marketplace.api.catalogue.visibility import staff_concerned
from marketplace.api.errors import BadUserInputError
from marketplace.api.payload import plain
from marketplace.projections.catalogue_view import CatalogueQuery

MAX_PAGE = 100
DEFAULT_PAGE = 20


class CatalogueQueries(graphene.ObjectType):
    departments = graphene.List(graphene.NonNull(t.Department), required=True,
                                description="Every department providing data.")
    department = graphene.Field(t.Department, id=graphene.ID(required=True))
    catalogue = graphene.Field(
        t.AssetConnection, required=True,
        description="Search the catalogue: free text (any substring, Chinese included) and filters. "
                    "Anonymous callers see published assets; staff may ask for other statuses.",
        search=graphene.String(), category=t.Category(), class_code=t.ResourceClass(),
        department_id=graphene.ID(), open_type=t.OpenType(),
        status=graphene.List(graphene.NonNull(t.AssetStatus)),
        first=graphene.Int(default_value=DEFAULT_PAGE), after=graphene.String())
    asset = graphene.Field(t.DataAsset, id=graphene.ID(required=True),
                           description="One asset by id; null when missing or not visible to you.")
    asset_by_code = graphene.Field(t.DataAsset, resource_code=graphene.String(required=True))
    review_queue = graphene.List(graphene.NonNull(t.DataAsset), required=True,
                                 description="Assets waiting for open review (reviewers).")

    @staticmethod
    def resolve_departments(root: Any, info: Any) -> list:
        return info.context.catalogue_view.departments()

    @staticmethod
    def resolve_department(root: Any, info: Any, id: str) -> dict | None:
        return next((d for d in info.context.catalogue_view.departments() if d["id"] == id), None)

    @staticmethod
    def resolve_catalogue(root: Any, info: Any, first: int | None = DEFAULT_PAGE,
                          search: str | None = None, after: str | None = None,
                          status: list | None = None, **filters: Any) -> dict:
        if first is None:  # an explicit null asks for the default page
            first = DEFAULT_PAGE
        if not 1 <= first <= MAX_PAGE:
            raise BadUserInputError(f"first must be between 1 and {MAX_PAGE}, not {first}")
        search = text_argument(search, "search")
        after = text_argument(after, "after")
        filters["department_id"] = text_argument(filters.get("department_id"), "departmentId")
        statuses = tuple(plain(status) if status else ["published"])
        actor = info.context.actor
        if statuses != ("published",) and actor.role not in (Role.ADMIN, Role.REVIEWER, Role.PUBLISHER):
            statuses = ("published",)  # the public sees only what is published
        query = CatalogueQuery(
            text=(search or "")[:100], statuses=statuses, first=first, after=after,
            category=plain(filters.get("category")), class_code=plain(filters.get("class_code")),
            department_id=filters.get("department_id"), open_type=plain(filters.get("open_type")))
        if actor.role is Role.PUBLISHER and statuses != ("published",):
            # A publisher sees other departments' published assets, and their own drafts.
            query = CatalogueQuery(**{**query.__dict__, "department_id": actor.department_id})
        try:
            page = info.context.catalogue_view.search(query)
        except ValueError as exc:
            raise BadUserInputError(str(exc)) from None
        return {"nodes": page.entries, "total_count": page.total,
                "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page}}

    @staticmethod
    def resolve_asset(root: Any, info: Any, id: str) -> dict | None:
        return visible(info, info.context.catalogue_view.get(text_argument(id, "id")))

    @staticmethod
    def resolve_asset_by_code(root: Any, info: Any, resource_code: str) -> dict | None:
        resource_code = text_argument(resource_code, "resourceCode")
        page = info.context.catalogue_view.search(CatalogueQuery(
            text=resource_code, statuses=tuple(s.value for s in t.AssetStatus._meta.enum), first=5))
        entry = next((e for e in page.entries if e["resource_code"] == resource_code), None)
        return visible(info, entry)

    @staticmethod
    def resolve_review_queue(root: Any, info: Any) -> list:
        actor = info.context.actor
        if actor.role not in (Role.REVIEWER, Role.ADMIN):
            return []
        page = info.context.catalogue_view.search(CatalogueQuery(statuses=("submitted",), first=MAX_PAGE))
        return [e for e in page.entries if e["department_id"] != actor.department_id]


def visible(info: Any, entry: dict | None) -> dict | None:
    """The entry if the caller may see it: published to all, the rest to staff concerned."""
    if entry is None or entry["status"] == "published":
        return entry
    return entry if staff_concerned(info.context.actor, entry["department_id"]) else None


def text_argument(value: str | None, argument: str) -> str | None:
    """``value`` unless it holds a NUL character, which no search matches and PostgreSQL
    refuses in text: a clear BAD_USER_INPUT instead of a database error."""
    if value is not None and "\x00" in value:
        raise BadUserInputError(f"{argument} must not contain the NUL character (U+0000)",
                                field=argument)
    return value
