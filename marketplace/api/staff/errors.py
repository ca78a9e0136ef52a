"""Codes of the staff payload errors."""

from __future__ import annotations

import graphene

from marketplace.api.payload import user_error_type

STAFF_ERROR_CODES = ("INVALID_CREDENTIALS", "INVALID_INPUT", "NOT_PERMITTED", "ALREADY_EXISTS",
                     "NOT_FOUND")
StaffErrorCode = graphene.Enum("StaffErrorCode", [(c, c) for c in STAFF_ERROR_CODES])
StaffError = user_error_type("StaffError", StaffErrorCode)
KNOWN = set(STAFF_ERROR_CODES)
