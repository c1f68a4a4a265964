"""Credentials of other agencies' systems: issued once, checked in constant time, scoped."""

import base64

import pytest
import sqlalchemy as sa

from portal.api import clients
from portal.api.models import ApiClient
from portal.auth.roles import Actor

OPERATOR = Actor(role=None, display_name="测试管理员")


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_cli_issues_a_secret_shown_once_and_stores_only_its_hash(app):
    result = app.test_cli_runner().invoke(args=["api-client", "create", "zj-340100", "--name",
                                                "合肥市住房和城乡建设局", "--scope", "project_cover:read",
                                                "--city", "340100"])
    assert result.exit_code == 0, result.output
    secret = result.output.split("secret（只显示一次 / shown once）: ")[1].strip()
    with app.extensions["portal.database"].read_session() as sess:
        row = sess.execute(sa.select(ApiClient)).scalar_one()
        dump = " ".join(str(v) for v in sess.execute(sa.text("SELECT * FROM api_client")).one())
    assert secret not in dump and row.secret_hash != secret
    again = app.test_cli_runner().invoke(args=["api-client", "create", "zj-340100", "--name", "x",
                                               "--scope", "project_cover:read"])
    assert again.exit_code != 0 and "已存在" in again.output


def test_authenticate(app):
    database = app.extensions["portal.database"]
    with database.write_transaction() as sess:
        issued = clients.create_client(sess, OPERATOR, client_id="zj-340100", name="合肥市住建局",
                                       scopes=["project_cover:read"], city_code="340100")
    with database.write_transaction() as sess:
        found = clients.authenticate(sess, _basic(issued.client_id, issued.secret), "project_cover:read")
        assert found.client_id == "zj-340100" and found.last_used_at is not None
    for header, error in [
        (None, clients.ApiAuthError),
        ("Bearer abc", clients.ApiAuthError),
        ("Basic !!!", clients.ApiAuthError),
        (_basic("zj-340100", "wrong"), clients.ApiAuthError),
        (_basic("nobody", issued.secret), clients.ApiAuthError),
        (_basic(issued.client_id, issued.secret), None),
    ]:
        with database.write_transaction() as sess:
            if error is None:
                with pytest.raises(clients.ApiScopeError):
                    clients.authenticate(sess, header, "something:else")
            else:
                with pytest.raises(error):
                    clients.authenticate(sess, header, "project_cover:read")
    with database.write_transaction() as sess:
        sess.execute(sa.update(ApiClient).values(active=False))
    with database.write_transaction() as sess, pytest.raises(clients.ApiAuthError, match="无效或已停用"):
        clients.authenticate(sess, _basic(issued.client_id, issued.secret), "project_cover:read")


@pytest.mark.parametrize("client_id,scopes,message", [
    ("ZJ!", ["project_cover:read"], "小写字母"),
    ("zj-1", [], "未知的权限范围"),
    ("zj-2", ["admin"], "未知的权限范围"),
])
def test_bad_client_definitions_are_refused(app, client_id, scopes, message):
    from portal.errors import UserInputError

    with app.extensions["portal.database"].write_transaction() as sess, pytest.raises(UserInputError, match=message):
        clients.create_client(sess, OPERATOR, client_id=client_id, name="x", scopes=scopes, city_code=None)
