"""Domain errors: each names the rule that was broken, in words for the person who broke it.

Every error carries a stable ``code`` (the API's payload error code) and, where one input caused
it, the ``field`` that did, so that a form can show the message beside the right box.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused a command; nothing was changed."""

    code = "INVALID"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidInputError(DomainError):
    """A value does not meet the catalogue standard (format, range, required companion)."""

    code = "INVALID_INPUT"


class LegalBasisRequiredError(InvalidInputError):
    """A conditional or closed classification was given without citing its legal basis."""

    code = "LEGAL_BASIS_REQUIRED"


class NotPermittedError(DomainError):
    """The acting person's role or department does not allow this command."""

    code = "NOT_PERMITTED"


class SelfReviewError(NotPermittedError):
    """A reviewer tried to review an asset of their own department."""

    code = "SELF_REVIEW"


class InvalidStateError(DomainError):
    """The command does not apply in the asset's current lifecycle state."""

    code = "INVALID_STATE"


class NotApprovedError(InvalidStateError):
    """Publishing was asked for a version whose schema the open review has not approved."""

    code = "NOT_APPROVED"


class UnknownVersionError(DomainError):
    """The asset has no version with that number."""

    code = "UNKNOWN_VERSION"


class AlreadyExistsError(DomainError):
    """Something with that identity is already registered."""

    code = "ALREADY_EXISTS"


class NotFoundError(DomainError):
    """The thing the command names does not exist."""

    code = "NOT_FOUND"


class OutdatedTermsError(InvalidInputError):
    """The subscriber accepted a licence terms version that is no longer the current one."""

    code = "OUTDATED_TERMS"


class NotConditionalError(InvalidStateError):
    """An access application was made for an asset that is not conditionally open."""

    code = "NOT_CONDITIONAL"


class NotOpenError(NotPermittedError):
    """A subscription was asked for an asset that is not open to society (非开放)."""

    code = "NOT_OPEN"


class ApplicationRequiredError(NotPermittedError):
    """A conditionally open asset needs an approved access application that covers the request."""

    code = "APPLICATION_REQUIRED"


class PlanRetiredError(InvalidStateError):
    """The plan has been retired and takes no new subscriptions."""

    code = "PLAN_RETIRED"


class LastOwnerError(InvalidStateError):
    """The command would leave an organisation without an owner."""

    code = "LAST_OWNER"
