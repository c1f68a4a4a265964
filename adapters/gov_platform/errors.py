"""The one exception type the 一网通办 service-items client raises."""

from __future__ import annotations


class GovPlatformError(Exception):
    """No usable or no positive answer from the platform.

    ``code`` says why (for logs, never for users): ``timeout``, ``unreachable``, ``server_error``,
    ``unsigned_answer``, ``unreadable`` or a result code of the platform (``item_not_found``,
    ``item_completed``, ``invalid_payload``, ``bad_signature`` …). ``retryable`` is True when the
    same request may well succeed later unchanged (the outcome is unknown or the platform was
    busy); False when the platform refused it and a retry only helps after someone fixes data or
    configuration. Either way the caller keeps the message and asks again: the platform
    deduplicates by event id, so a repeat is harmless.
    """

    def __init__(self, message: str, *, code: str = "unknown", status: int | None = None,
                 retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retryable = retryable
