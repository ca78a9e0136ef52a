"""Catalogue queries: GraphQL's side of ``marketplace.views.catalogue`` (which holds who sees
what). A resolver checks the arguments GraphQL cannot (page bounds, NUL characters), asks the view
for the caller, and hands its typed entries to the types."""

from __future__ import annotations

from typing import Any

import graphene

from marketplace.api.catalogue import types as t
from marketplace.api.errors import BadUserInputError
from marketplace.api.payload import plain
from marketplace.views.catalogue import MAX_PAGE, CatalogueSearch
from marketplace.views.catalogue_entries import CatalogueEntry, DepartmentEntry
from marketplace.views.errors import InvalidQuery

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
    def resolve_departments(root: Any, info: Any) -> list[DepartmentEntry]:
        return info.context.catalogue_queries.departments()

    @staticmethod
    def resolve_department(root: Any, info: Any, id: str) -> DepartmentEntry | None:
        return info.context.catalogue_queries.department(id)

    @staticmethod
    def resolve_catalogue(root: Any, info: Any, first: int | None = DEFAULT_PAGE,
                          search: str | None = None, after: str | None = None,
                          status: list | None = None, **filters: Any) -> dict[str, Any]:
        if first is None:  # an explicit null asks for the default page
            first = DEFAULT_PAGE
        if not 1 <= first <= MAX_PAGE:
            raise BadUserInputError(f"first must be between 1 and {MAX_PAGE}, not {first}")
        search = text_argument(search, "search")
        after = text_argument(after, "after")
        department_id = text_argument(filters.get("department_id"), "departmentId")
        asked = CatalogueSearch(
            text=search, statuses=tuple(plain(status)) if status else (), first=first,
            after=after, category=plain(filters.get("category")),
            class_code=plain(filters.get("class_code")), department_id=department_id,
            open_type=plain(filters.get("open_type")))
        try:
            page = info.context.catalogue_queries.search(info.context.actor, asked)
        except InvalidQuery as refused:
            raise BadUserInputError(refused.message) from None
        return {"nodes": page.entries, "total_count": page.total,
                "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page}}

    @staticmethod
    def resolve_asset(root: Any, info: Any, id: str) -> CatalogueEntry | None:
        return info.context.catalogue_queries.asset(info.context.actor, text_argument(id, "id"))

    @staticmethod
    def resolve_asset_by_code(root: Any, info: Any, resource_code: str) -> CatalogueEntry | None:
        code = text_argument(resource_code, "resourceCode")
        return info.context.catalogue_queries.asset_by_code(info.context.actor, code)

    @staticmethod
    def resolve_review_queue(root: Any, info: Any) -> list[CatalogueEntry]:
        return info.context.catalogue_queries.review_queue(info.context.actor)


def text_argument(value: str | None, argument: str) -> str | None:
    """``value`` unless it holds a NUL character, which no search matches and PostgreSQL
    refuses in text: a clear BAD_USER_INPUT instead of a database error."""
    if value is not None and "\x00" in value:
        raise BadUserInputError(f"{argument} must not contain the NUL character (U+0000)",
                                field=argument)
    return value
