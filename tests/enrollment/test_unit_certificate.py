"""单位参保证明: only an approved unit's own employer gets one; it verifies publicly."""

import io

from pypdf import PdfReader


def test_approved_unit_gets_a_certificate_that_verifies(app, client, sess, enroll, login_as, csrf_token):
    unit = enroll(sess, approve=True)
    sess.commit()
    login_as(client, "employer")
    issued = client.post(f"/certificates/unit/{unit.id}", data={"csrf_token": csrf_token(client)})
    assert issued.status_code == 303
    text = PdfReader(io.BytesIO(client.get(issued.headers["Location"]).data)).pages[0].extract_text()
    assert "单位参保证明" in text and unit.uscc in text and "截至出具日参保人数" in text
    number = issued.headers["Location"].rsplit("/", 1)[1].removesuffix(".pdf")
    code = text.split("校验码：")[1][:16]
    page = app.test_client().get("/verify", query_string={"n": number, "c": code}).get_data(as_text=True)
    assert "核验通过：证明有效" in page and unit.name in page


def test_no_certificate_before_approval_or_for_another_employer(app, client, sess, enroll, login_as, csrf_token):
    unit = enroll(sess, submit=True)
    sess.commit()
    login_as(client, "employer")
    assert client.post(f"/certificates/unit/{unit.id}", data={"csrf_token": csrf_token(client)}).status_code == 404
    other = app.test_client()
    login_as(other, "employer2")
    assert other.post(f"/certificates/unit/{unit.id}", data={"csrf_token": csrf_token(other)}).status_code == 404
