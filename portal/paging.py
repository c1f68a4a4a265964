"""Paged lists (分页): the one rule for how many pages a list has."""

from __future__ import annotations


def page_count(total: int, per_page: int) -> int:
    """At least one page, even for an empty list."""
    return max(1, -(-total // per_page))


class Paged:
    """Mixin for a page-of-results dataclass with ``total`` and ``per_page`` fields."""

    total: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)
