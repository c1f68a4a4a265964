"""The one exception type the tax-platform client raises.

A ``TaxPlatformError`` means the platform gave **no usable answer** (unreachable, too slow, a
5xx, an unreadable or unsigned body): the outcome is *unknown*. Callers must keep the bill
待确认 and ask again later; they must never treat it as "paid" or as "failed".
"""

from __future__ import annotations

# The signature scheme is shared (adapters.signing); so is its error, re-exported here.
from adapters.signing import SignatureError

__all__ = ["SignatureError", "TaxPlatformError"]


class TaxPlatformError(Exception):
    """No usable answer from the platform; ``code`` says why (for logs, never for users)."""

    def __init__(self, message: str, *, code: str = "unknown", status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
