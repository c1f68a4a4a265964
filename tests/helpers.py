"""Test helpers shared by several test modules."""

from html.parser import HTMLParser

import sqlalchemy as sa


def tamper_with_audit_trail(engine, statement: str) -> None:
    """Play a database administrator who lifts the audit trail's guards (PostgreSQL: user
    triggers off for one transaction; SQLite: triggers dropped), runs ``statement`` (one or more,
    ``;``-separated) and puts the guards back (the PostgreSQL test schema outlives one test)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for part in filter(None, (p.strip() for p in statement.split(";"))):
                conn.execute(sa.text(part))
            return
        guards = conn.execute(sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name IN ('audit_event', 'audit_chain_head')")).all()
        for name, _sql in guards:
            conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
        for part in filter(None, (p.strip() for p in statement.split(";"))):
            conn.execute(sa.text(part))
        for _name, sql in guards:
            conn.execute(sa.text(sql))


class PageParser(HTMLParser):
    """Just enough HTML structure for page assertions: every tag with its attributes, the text of
    each <h1> (an empty one counts) and of <title>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.h1: list[str] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "title"):
            self._in = tag
            if tag == "h1":
                self.h1.append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "h1":
            self.h1[-1] += data
        elif self._in == "title":
            self.title += data

    def find(self, tag, **attrs) -> list[dict]:
        """The attributes of every ``tag`` that has all of ``attrs``."""
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser
