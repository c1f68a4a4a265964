"""Test helpers shared by several test modules."""

from html.parser import HTMLParser

import sqlalchemy as sa

_SQLITE_GUARDS = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]


def tamper_with_audit_trail(engine, statement: str) -> None:
    """Play a database administrator who lifts the append-only guard, edits, and puts it back
    (the PostgreSQL test schema outlives one test, so the guard must be restored)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update"))
            conn.execute(sa.text(statement))
            conn.execute(sa.text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_event_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_event_no_delete"))
            conn.execute(sa.text(statement))
            for guard in _SQLITE_GUARDS:
                conn.execute(sa.text(guard))


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
