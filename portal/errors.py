"""Domain errors: a stable code for machines and a Chinese message for people.

"Your input is wrong" (``UserInputError``, 422) and "not yours / not there" are different classes
from bugs; only bugs become 500.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class UserInputError(DomainError):
    status, code = 422, "invalid_input"


class InvalidFields(UserInputError):
    """Several field messages at once: ``errors`` maps a form field name to its Chinese message.

    The form helper (``portal.web.forms.handle_form``) puts each message beside its field, and a
    message for a name the form does not have at the top of the form."""

    def __init__(self, errors: dict[str, str], *, code: str | None = None) -> None:
        super().__init__("；".join(errors.values()), code=code)
        self.errors = dict(errors)


class NotFoundError(DomainError):
    """Missing, or outside the actor's scope: both look the same from outside."""

    status, code = 404, "not_found"


class PermissionDenied(DomainError):
    status, code = 403, "forbidden"


class ConflictError(DomainError):
    """The case, bill or unit is no longer in a state that allows the action."""

    status, code = 409, "conflict"


class PeerUnavailable(DomainError):
    """An external platform did not answer usably; the data stays 待确认/待核验."""

    status, code = 503, "peer_unavailable"
