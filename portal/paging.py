"""Paged lists (分页): the one rule for how many pages a list has, and how far a list counts.

A list's page is a ``LIMIT``'d query that stops after the rows it shows, however many rows match;
counting every match for "共 N 条" would not stop. So a list counts at most :data:`COUNT_CAP`
matches (:func:`capped_count`): beyond that it says "超过 1,000 条", pages up to the cap, and asks
the reader to narrow the filter (a person does not page through fifty pages of twenty anyway).
"""

from __future__ import annotations

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session

#: 计数上限: a list counts at most this many matching rows (50 pages of 20); the one place to change it
COUNT_CAP = 1000


def page_count(total: int, per_page: int) -> int:
    """At least one page, even for an empty list."""
    return max(1, -(-total // per_page))


def capped_count_query(query: Select, cap: int | None = None) -> Select:
    """``SELECT count(*) FROM (<query, unordered, one column> LIMIT cap + 1)``: it reads at most
    cap + 1 rows of the query's index, so it costs the same at any size of the table."""
    cap = COUNT_CAP if cap is None else cap
    rows = query.order_by(None).limit(None).offset(None)
    rows = rows.with_only_columns(literal_column("1"), maintain_column_froms=True).limit(cap + 1)
    return select(func.count()).select_from(rows.subquery())


def capped_count(sess: Session, query: Select, cap: int | None = None) -> tuple[int, bool]:
    """(total, capped): the matches of ``query`` counted up to ``cap`` (default :data:`COUNT_CAP`);
    ``capped`` when there are more, and then ``total`` is the cap."""
    cap = COUNT_CAP if cap is None else cap
    found = sess.execute(capped_count_query(query, cap)).scalar_one()
    return min(found, cap), found > cap


class Paged:
    """Mixin for a page-of-results dataclass with ``total`` and ``per_page`` fields (and, for a
    list counted by :func:`capped_count`, a ``total_is_capped`` field: more rows than ``total``)."""

    total: int
    per_page: int
    #: more rows match than ``total`` (the count stopped at :data:`COUNT_CAP`)
    total_is_capped: bool = False

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)
