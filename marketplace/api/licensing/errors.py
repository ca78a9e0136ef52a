"""Codes of the licensing payload errors (one enum for the domain, stable for programs)."""

from __future__ import annotations

import graphene

from marketplace.api.payload import user_error_type

LICENSING_ERROR_CODES = (
    "INVALID_INPUT", "NOT_PERMITTED", "INVALID_STATE", "ALREADY_EXISTS", "NOT_FOUND",
    "UNKNOWN_VERSION", "OUTDATED_TERMS", "NOT_CONDITIONAL", "NOT_OPEN", "APPLICATION_REQUIRED",
    "PLAN_RETIRED",
)
LicensingErrorCode = graphene.Enum("LicensingErrorCode", [(c, c) for c in LICENSING_ERROR_CODES])
LicensingError = user_error_type("LicensingError", LicensingErrorCode)
KNOWN = set(LICENSING_ERROR_CODES)
