"""The enrollment pages over HTTP: the employer → clerk flow, 422 with field messages, scope, files."""

import io
import re
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.enrollment.models import EnrolledUnit, UnitMember, UnitStatus
from tests.enrollment.conftest import UNIT_FIELDS, make_id
from tests.frontend.test_pages import check_page


def post(client, csrf_token, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def assert_page(response, h1: str):
    """The page-wide rules every portal page keeps (one h1, title, unique ids, CSP, labels)."""
    assert response.status_code == 200, text(response)[:500]
    page = check_page(response)
    assert " ".join(page.h1[0].split()) == h1


def enroll_over_http(employer, csrf_token, **overrides):
    response = post(employer, csrf_token, "/enrollment/unit/edit", {**UNIT_FIELDS, **overrides})
    assert response.status_code == 303, text(response)
    assert post(employer, csrf_token, "/enrollment/unit/submit").status_code == 303


def scalar(app, statement):
    """One value, read in a session of its own that ends at once (a reader: it holds no SQLite
    lock the next request would wait for)."""
    with app.extensions["portal.database"].read_session() as s:
        return s.execute(statement).scalar_one()


def unit_id(app) -> int:
    return scalar(app, select(EnrolledUnit.id))


def test_employer_enrolls_clerk_returns_then_approves_and_the_employer_sees_it(app, employer, clerk, csrf_token):
    page = employer.get("/enrollment/unit")
    assert page.status_code == 200 and "本单位尚未办理工伤保险参保登记" in text(page)
    assert_page(page, "单位参保登记")
    form = employer.get("/enrollment/unit/edit")
    assert_page(form, "填写参保登记信息")
    assert 'value="91340100MA2N0A1B5E"' in text(form) and "安徽皖建建设工程有限公司" in text(form)

    enroll_over_http(employer, csrf_token)
    uid = unit_id(app)
    mine = text(employer.get("/enrollment/unit"))
    assert "待审核" in mine and "139****1234" in mine and "13955101234" not in mine
    assert "1.30%" in mine and "六类" in mine and "100%" in mine

    inbox = clerk.get("/enrollment/review")
    assert_page(inbox, "参保登记审核")
    assert "安徽皖建建设工程有限公司" in text(inbox)
    review = clerk.get(f"/enrollment/review/{uid}")
    assert_page(review, "审核参保登记")

    bad = post(clerk, csrf_token, f"/enrollment/review/{uid}/return", {"reasons": " "})
    assert bad.status_code == 422 and "请填写退回原因" in text(bad)
    assert post(clerk, csrf_token, f"/enrollment/review/{uid}/return",
                {"reasons": "请补充单位地址门牌号。"}).status_code == 303
    returned = text(employer.get("/enrollment/unit"))
    assert "请补充单位地址门牌号。" in returned and "重新提交审核" in returned
    assert "陈静" not in returned  # the office, not the clerk's name

    edit = text(employer.get("/enrollment/unit/edit"))
    assert "13955101234" in edit  # the employer's own form shows its phone to edit (an audited read)
    enroll_over_http(employer, csrf_token, address="合肥市蜀山区长江西路100号A座")

    bad = post(clerk, csrf_token, f"/enrollment/review/{uid}/approve",
               {"risk_class": "6", "band": "0.3", "effective_date": "2026-13-01"})
    assert bad.status_code == 422
    check_page(bad)
    assert "参保生效日期格式不正确" in text(bad) and "请从列表中选择费率浮动档次" in text(bad)
    assert "Not a valid" not in text(bad)
    ok = post(clerk, csrf_token, f"/enrollment/review/{uid}/approve",
              {"risk_class": "6", "band": "1.0", "effective_date": "2026-11-01"})
    assert ok.status_code == 303
    again = post(clerk, csrf_token, f"/enrollment/review/{uid}/approve",
                 {"risk_class": "6", "band": "1.0", "effective_date": "2026-11-01"})
    assert again.status_code == 409 and "不能审核通过" in text(again)  # decided already: the page says so

    approved = text(employer.get("/enrollment/unit"))
    assert "审核通过，参保登记生效" in approved and "自 2026-11-01 起" in approved
    assert "退回补正" in approved  # the whole history stays visible
    assert scalar(app, select(EnrolledUnit.status).where(EnrolledUnit.id == uid)) is UnitStatus.APPROVED
    with app.extensions["portal.database"].read_session() as s:
        actions = set(s.execute(select(AuditEvent.action).where(AuditEvent.object_id == str(uid))).scalars())
    assert {"enrollment.unit_approve", "enrollment.unit_return", "enrollment.unit_read_personal_data"} <= actions


def test_invalid_enrollment_answers_422_with_messages_next_to_fields(employer, csrf_token):
    response = post(employer, csrf_token, "/enrollment/unit/edit",
                    {**UNIT_FIELDS, "uscc": "91340100MA2N0E5F43", "county_code": "320102", "contact_phone": "12"})
    assert response.status_code == 422
    check_page(response)
    body = text(response)
    assert 'id="uscc-error"' in body and "须与登录单位的代码一致" in body
    assert 'id="county_code-error"' in body and "不是安徽省" in body
    assert 'id="contact_phone-error"' in body
    assert 'href="#uscc"' in body  # the error summary links to the field
    empty = post(employer, csrf_token, "/enrollment/unit/edit", {})
    assert empty.status_code == 422 and "请填写单位名称" in text(empty)


def test_scope_other_city_and_other_employer_get_404(app, employer, login_as, csrf_token):
    enroll_over_http(employer, csrf_token)
    uid = unit_id(app)
    wuhu = app.test_client()
    login_as(wuhu, "clerk-wuhu")
    assert wuhu.get(f"/enrollment/review/{uid}").status_code == 404
    assert post(wuhu, csrf_token, f"/enrollment/review/{uid}/approve",
                {"risk_class": "6", "band": "1.0", "effective_date": "2026-11-01"}).status_code == 404
    assert wuhu.get("/enrollment/review?city_code=340100").status_code == 404
    assert "安徽皖建" not in text(wuhu.get("/enrollment/review"))
    other = app.test_client()
    login_as(other, "employer2")
    assert "尚未办理" in text(other.get("/enrollment/unit"))
    assert other.get("/enrollment/members/1").status_code == 404
    province = app.test_client()
    login_as(province, "provincial")
    assert province.get(f"/enrollment/review/{uid}").status_code == 200
    assert province.get("/enrollment/review?city_code=340200&status=all").status_code == 200


def test_inbox_htmx_partial_and_bad_filters(app, employer, clerk, csrf_token):
    enroll_over_http(employer, csrf_token)
    partial = clerk.get("/enrollment/review?status=all&q=皖建",
                        headers={"HX-Request": "true", "HX-Target": "inbox-results"})
    body = text(partial)
    assert partial.status_code == 200 and body.lstrip().startswith("<section id=\"inbox-results\"")
    assert "<html" not in body and "安徽皖建" in body
    bad = clerk.get("/enrollment/review?county_code=34&page=0&status=nonsense")
    assert bad.status_code == 422 and "县（区）代码应为6位数字" in text(bad)
    check_page(bad)


def approve_over_http(employer, clerk, app, csrf_token):
    enroll_over_http(employer, csrf_token)
    uid = unit_id(app)
    assert post(clerk, csrf_token, f"/enrollment/review/{uid}/approve",
                {"risk_class": "6", "band": "1.0", "effective_date": "2026-11-01"}).status_code == 303
    return uid


def test_members_add_change_remove_import_over_http(app, employer, clerk, csrf_token):
    not_yet = employer.get("/enrollment/members/new")
    assert not_yet.status_code == 404 and "尚未办理参保登记" in text(not_yet)
    uid = approve_over_http(employer, clerk, app, csrf_token)
    assert_page(employer.get("/enrollment/members/new"), "增加参保人员")
    data = {"name": "李明", "id_number": make_id(seq=501), "phone": "", "wage_base": "100",
            "start_date": date.today().isoformat(), "insurance_type": "regular"}
    bad = post(employer, csrf_token, "/enrollment/members/new", data)
    assert bad.status_code == 422 and 'id="wage_base-error"' in text(bad) and "4,226.63 元至 21,133.14 元" in text(bad)
    assert post(employer, csrf_token, "/enrollment/members/new", {**data, "wage_base": "8000"}).status_code == 303
    listing = employer.get("/enrollment/members")
    assert_page(listing, "参保人员")
    body = text(listing)
    assert make_id(seq=501) not in body and "340104********" + make_id(seq=501)[-4:] in body
    assert "8,000.00 × 1.30% × 100% = 104.00" in body
    member_id = scalar(app, select(UnitMember.id))
    assert_page(employer.get(f"/enrollment/members/{member_id}"), "参保人员信息")
    bad = post(employer, csrf_token, f"/enrollment/members/{member_id}/wage-base", {"wage_base": "abc"})
    assert bad.status_code == 422 and "格式不正确" in text(bad)
    assert post(employer, csrf_token, f"/enrollment/members/{member_id}/wage-base",
                {"wage_base": "9000"}).status_code == 303
    bad = post(employer, csrf_token, f"/enrollment/members/{member_id}/remove", {"end_date": "2000-01-01"})
    assert bad.status_code == 422 and "停保日期不能早于参保日期" in text(bad)
    assert post(employer, csrf_token, f"/enrollment/members/{member_id}/remove",
                {"end_date": date.today().isoformat()}).status_code == 303

    template = employer.get("/enrollment/members/template.xlsx")
    assert template.status_code == 200 and "attachment" in template.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(template.data))["参保人员"]
    sheet.append(["王芳", make_id(seq=502), "", "7000", date.today().isoformat(), ""])
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    assert employer.get("/enrollment/members/template.csv").data.startswith("\ufeff姓名".encode())
    assert employer.get("/enrollment/members/template.pdf").status_code == 404
    assert_page(employer.get("/enrollment/members/import"), "批量导入参保人员")
    wrong = post(employer, csrf_token, "/enrollment/members/import",
                 {"file": (io.BytesIO("姓名\n".encode()), "x.csv")}, content_type="multipart/form-data")
    assert wrong.status_code == 422 and "表头不正确" in text(wrong)
    rows = "姓名,身份证号码,手机号码,月缴费工资基数,参保日期,参保类型\r\n=1+1,%s,,8000,%s,\r\n" % (
        make_id(seq=503), date.today().isoformat())
    refused = post(employer, csrf_token, "/enrollment/members/import",
                   {"file": (io.BytesIO(rows.encode("gbk")), "x.csv")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "第 2 行" in text(refused) and "疑似公式" in text(refused)
    check_page(refused)
    nothing = post(employer, csrf_token, "/enrollment/members/import", {}, content_type="multipart/form-data")
    assert nothing.status_code == 422 and "请选择要上传的文件" in text(nothing)
    ok = post(employer, csrf_token, "/enrollment/members/import",
              {"file": (io.BytesIO(buffer.getvalue()), "名单.xlsx")}, content_type="multipart/form-data")
    assert ok.status_code == 303, text(ok)
    history = text(employer.get("/enrollment/members?show=all"))
    assert "王芳" in history and "李明" in history  # the removed period stays as history
    staff = clerk.get(f"/enrollment/review/{uid}/members?show=all")
    assert_page(staff, "参保人员")
    assert "王芳" in text(staff)


def test_province_overview_links_each_figure_to_its_list(app, employer, clerk, login_as, csrf_token):
    approve_over_http(employer, clerk, app, csrf_token)
    province = app.test_client()
    login_as(province, "provincial")
    page = province.get("/enrollment/province")
    assert_page(page, "各市参保情况")
    body = text(page)
    assert body.count("<tr>") >= 17 and "合肥市" in body and "宿州市" in body
    link = re.search(r'href="(/enrollment/review\?[^"]*city_code=340100[^"]*status=approved[^"]*)"', body)
    assert link, body
    listed = province.get(link.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200 and "安徽皖建建设工程有限公司" in text(listed)
    assert clerk.get("/enrollment/province").status_code == 403


def test_oversized_uploads_are_refused_without_a_500(app, employer, clerk, csrf_token):
    approve_over_http(employer, clerk, app, csrf_token)
    header = "姓名,身份证号码,手机号码,月缴费工资基数,参保日期,参保类型\r\n".encode()
    just_over = header + b" " * (5 * 1024 * 1024)
    response = post(employer, csrf_token, "/enrollment/members/import",
                    {"file": (io.BytesIO(just_over), "big.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422 and "文件超过 5 MB" in text(response)
    absurd = post(employer, csrf_token, "/enrollment/members/import",
                  {"file": (io.BytesIO(b"x" * (8 * 1024 * 1024)), "huge.csv")}, content_type="multipart/form-data")
    assert absurd.status_code == 422 and "文件超过 5 MB" in text(absurd)
    assert scalar(app, select(func.count(UnitMember.id))) == 0
