"""Codes of the catalogue's payload errors (one enum for the domain, stable for programs)."""

from __future__ import annotations

import graphene

from marketplace.api.payload import user_error_type

CATALOGUE_ERROR_CODES = (
    "INVALID_INPUT", "INVALID_CLASSIFICATION", "INVALID_RESOURCE_CODE", "LEGAL_BASIS_REQUIRED",
    "INVALID_PROVIDER_CODE", "NOT_PERMITTED", "SELF_REVIEW", "INVALID_STATE", "NOT_APPROVED",
    "UNKNOWN_VERSION", "ALREADY_EXISTS", "NOT_FOUND", "IMPORT_EMPTY", "IMPORT_RAGGED_ROW",
    "IMPORT_UNDECODABLE", "IMPORT_TOO_LARGE", "IMPORT_BAD_VALUE", "IMPORT_BAD_HEADER",
    "IMPORT_DUPLICATE_KEY", "IMPORT_UNSUPPORTED_FORMAT",
    "NOT_DETECTED", "DECLARED_PERSONAL", "ALREADY_CLEARED",
)

CatalogueErrorCode = graphene.Enum("CatalogueErrorCode", [(c, c) for c in CATALOGUE_ERROR_CODES])
CatalogueError = user_error_type("CatalogueError", CatalogueErrorCode)
KNOWN = set(CATALOGUE_ERROR_CODES)
