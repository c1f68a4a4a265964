"""Key rotation: `portal keys rotate` re-seals old values so the old key can be retired."""

import sqlalchemy as sa

from portal import create_app
from portal.accounts import service as accounts
from portal.accounts.models import Person
from portal.demo import demo_identity
from tests.conftest import settings_for_tests

OLD = "dev1:000102030405060708090a0b0c0d0e0f"
NEW = "k2:" + "5a" * 16


def _raw_kids(database) -> set[str]:
    with database.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id_number, phone FROM person")).all()
    return {value.split(".")[1] for row in rows for value in row if value}


def test_rotate_reseals_then_the_old_key_can_go(database_url, tmp_path):
    first = create_app(settings_for_tests(database_url, tmp_path))
    with first.extensions["portal.database"].write_transaction() as sess:
        accounts.sign_in(sess, demo_identity("worker"), None, None)
    assert _raw_kids(first.extensions["portal.database"]) == {"dev1"}
    first.extensions["portal.database"].dispose()

    rotating = create_app(settings_for_tests(database_url, tmp_path, encryption_keys=f"{OLD},{NEW}",
                                             encryption_active_key="k2"))
    result = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "重新加密 2 项" in result.output
    again = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
    assert "重新加密 0 项，2 项无需处理" in again.output
    assert _raw_kids(rotating.extensions["portal.database"]) == {"k2"}
    rotating.extensions["portal.database"].dispose()

    retired = create_app(settings_for_tests(database_url, tmp_path, encryption_keys=NEW,
                                            encryption_active_key="k2"))
    try:
        with retired.extensions["portal.database"].read_session() as sess:
            person = sess.execute(sa.select(Person)).scalar_one()
            assert (person.id_number, person.phone) == ("340104199003071235", "13955100001")
    finally:
        retired.extensions["portal.database"].dispose()
