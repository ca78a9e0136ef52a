"""Codes of the organisation payload errors (accounts, organisations, API keys)."""

from __future__ import annotations

import graphene

from marketplace.api.payload import user_error_type

ORGANISATION_ERROR_CODES = (
    "INVALID_INPUT", "INVALID_CREDIT_CODE", "NOT_PERMITTED", "ALREADY_EXISTS", "NOT_FOUND",
    "INVALID_STATE", "LAST_OWNER",
)
OrganisationErrorCode = graphene.Enum("OrganisationErrorCode",
                                      [(c, c) for c in ORGANISATION_ERROR_CODES])
OrganisationError = user_error_type("OrganisationError", OrganisationErrorCode)
KNOWN = set(ORGANISATION_ERROR_CODES)
