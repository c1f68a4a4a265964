"""Issue 12 point 4: limits on every costly request.

- the API and login are rate-limited per client ADDRESS before authentication: wrong passwords
  from one address never lock out the real client calling from another, and rotating fake client
  ids from one address is limited; a per-client limit still applies once authenticated;
- every public PDF has a per-address limit, and the estimate PDF is cached by its inputs;
- spreadsheet uploads are capped by unzipped size (zip bombs), by all rows read (blank ones
  included) and by processing time, with a Chinese message and nothing imported;
- 429: the Chinese page for people, JSON ``rate_limited`` with Retry-After on the API.
"""

from __future__ import annotations

import base64
import inspect
import io
import re
import time
import zipfile
from datetime import date
from urllib.parse import urlencode

import pytest
from jinja2 import DictLoader, Environment
from sqlalchemy import func, select

from portal import spreadsheets
from portal.api import clients
from portal.auth.access import policy_of
from portal.auth.roles import Actor
from portal.spreadsheets import Column, Layout, SheetLimits, SpreadsheetError
from portal.web.limits import DocumentCache, template_fingerprint
from tests.renders.helpers import fetch_rendered, run_worker

LIMITED = {"ratelimit_enabled": True, "ratelimit_storage_url": "memory://"}
OPERATOR = Actor(role=None, display_name="测试管理员")
ESTIMATE = {"date": "2024-05-10", "outcome": "disability", "grade": "4", "own_monthly_wage": "5432.17",
            "average_monthly_wage": "8000", "care_level": "partial"}


def _from(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def bureau(app):
    """The housing bureau's real credential (client id, secret)."""
    with app.app_context(), app.extensions["portal.database"].write_transaction() as sess:
        issued = clients.create_client(sess, OPERATOR, client_id="zj-340100", name="合肥市住房和城乡建设局",
                                       scopes=["project_cover:read"], city_code="340100")
    return issued.client_id, issued.secret


COVER = "/api/v1/projects/XM340100202600001/cover"


def _assert_api_429(response) -> None:
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


# --- the API: per address before authentication, per client after ----------------------------


@pytest.mark.parametrize("app_overrides", [{**LIMITED, "ratelimit_api_auth_failures": "3 per minute",
                                            "ratelimit_api_address": "100 per minute"}])
def test_wrong_passwords_from_one_address_do_not_lock_out_the_real_client(client, bureau):
    client_id, secret = bureau
    attacker = [client.get(COVER, headers=_basic(client_id, "wrong"), environ_base=_from("203.0.113.9")).status_code
                for _ in range(6)]
    assert attacker[:3] == [401, 401, 401] and attacker[3:] == [429, 429, 429]
    _assert_api_429(client.get(COVER, headers=_basic(client_id, secret), environ_base=_from("203.0.113.9")))
    # the bureau itself, calling from its own address, is not affected (404: no such project)
    for _ in range(5):
        assert client.get(COVER, headers=_basic(client_id, secret), environ_base=_from("10.1.2.3")).status_code == 404


@pytest.mark.parametrize("app_overrides", [{**LIMITED, "ratelimit_api_address": "4 per minute"}])
def test_rotating_fake_client_ids_from_one_address_are_limited(client, bureau):
    statuses = [client.get(COVER, headers=_basic(f"fake-{i}", "x"), environ_base=_from("203.0.113.7")).status_code
                for i in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    _assert_api_429(client.get("/api/openapi.json", environ_base=_from("203.0.113.7")))
    client_id, secret = bureau
    assert client.get(COVER, headers=_basic(client_id, secret), environ_base=_from("10.1.2.3")).status_code == 404


@pytest.mark.parametrize("app_overrides", [{**LIMITED, "ratelimit_api_client": "2 per minute"}])
def test_an_authenticated_client_has_its_own_limit_across_addresses(client, bureau):
    client_id, secret = bureau
    statuses = [client.get(COVER, headers=_basic(client_id, secret), environ_base=_from(f"10.1.2.{i}")).status_code
                for i in range(3)]
    assert statuses[:2] == [404, 404]
    third = client.get(COVER, headers=_basic(client_id, secret), environ_base=_from("10.1.2.9"))
    _assert_api_429(third)


# --- login ------------------------------------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [{**LIMITED, "ratelimit_login": "2 per minute"}])
def test_login_is_limited_per_address(client):
    statuses = [client.get("/login", environ_base=_from("203.0.113.5")).status_code for _ in range(3)]
    assert statuses[-1] == 429 and 429 not in statuses[:2]
    page = client.get("/login", environ_base=_from("203.0.113.5"))
    assert page.status_code == 429 and "操作过于频繁" in page.get_data(as_text=True) and "Retry-After" in page.headers
    assert client.get("/login", environ_base=_from("198.51.100.1")).status_code != 429


@pytest.mark.parametrize("app_overrides", [{**LIMITED, "ratelimit_login": "2 per minute"}])
def test_pages_without_a_limit_skip_the_limiter_and_no_limited_view_is_skipped(app, client):
    """``portal.web.limits.skip_unlimited_views``: the limiter's per-request work is skipped only
    for views that carry no limit; every view that carries one (login, the API, public PDFs,
    look-ups, the tax callback) is still checked."""
    from portal.web.limits import _has_no_limits, _nothing_to_limit

    with app.test_request_context("/"):
        assert _nothing_to_limit()
        limited = [rule.endpoint for rule in app.url_map.iter_rules() if not _has_no_limits(rule.endpoint)]
    with app.test_request_context("/login"):
        assert not _nothing_to_limit()
    assert {"auth.login", "benefits.estimate_pdf", "payments.tax_callback"} <= set(limited), limited
    assert any(endpoint.startswith("api.") for endpoint in limited)
    assert "public.home" not in limited and "accounts.profile" not in limited
    statuses = [client.get("/login", environ_base=_from("203.0.113.6")).status_code for _ in range(3)]
    assert statuses[-1] == 429
    assert [client.get("/", environ_base=_from("203.0.113.6")).status_code for _ in range(3)] == [200] * 3


# --- public PDFs --------------------------------------------------------------------------------

_RENDERS_PDF = re.compile(r"html_to_pdf|application/pdf|_pdf\(")


def test_every_public_pdf_route_has_a_per_address_limit(app):
    """Walk the URL map: a view anyone may call that renders a PDF carries public_pdf_limit."""
    found, unlimited = [], []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        policy = policy_of(view)
        if policy is None or not policy.public:
            continue
        source = inspect.getsource(inspect.unwrap(view))
        if ".pdf" in rule.rule or _RENDERS_PDF.search(source):
            found.append(rule.endpoint)
            if not getattr(view, "public_pdf_limited", False):
                unlimited.append(rule.endpoint)
    assert "benefits.estimate_pdf" in found
    assert unlimited == []


@pytest.fixture
def renders(monkeypatch):
    """Count the estimate PDFs actually rendered (the real renderer still runs)."""
    from portal.benefits import routes
    from portal.documents import html_to_pdf

    count = []

    def counting(html, base_url=None):
        count.append(1)
        return html_to_pdf(html, base_url=base_url)

    monkeypatch.setattr(routes, "html_to_pdf", counting)
    return count


def _pdf_url(params: dict) -> str:
    return "/benefits/estimate.pdf?" + urlencode(params)


@pytest.mark.parametrize("app_overrides", [{**LIMITED, "ratelimit_public_pdf": "2 per minute"}])
def test_public_pdf_is_limited_per_address_with_a_chinese_page(app, client, renders):
    first = client.get(_pdf_url(ESTIMATE), environ_base=_from("203.0.113.20"))
    assert first.status_code == 303 and run_worker(app) == 1  # rendered by the background worker
    statuses = [first.status_code] + [client.get(_pdf_url(ESTIMATE), environ_base=_from("203.0.113.20")).status_code
                                      for _ in range(2)]
    assert statuses == [303, 200, 429]
    refused = client.get(_pdf_url(ESTIMATE), environ_base=_from("203.0.113.20"))
    assert refused.status_code == 429 and "操作过于频繁" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get(_pdf_url(ESTIMATE), environ_base=_from("198.51.100.20")).status_code == 200
    assert len(renders) == 1  # one document, rendered once for all of them


def test_estimate_pdf_is_cached_by_its_parsed_inputs(client, renders):
    first = fetch_rendered(client, _pdf_url(ESTIMATE))
    assert first.status_code == 200 and first.mimetype == "application/pdf" and len(renders) == 1
    # the same facts again, written differently and in another order: no new rendering
    same = dict(reversed(list({**ESTIMATE, "own_monthly_wage": " 5432.170 ", "average_monthly_wage": "8000.00"}
                              .items())))
    again = client.get(_pdf_url(same))
    assert again.status_code == 200 and again.data == first.data and len(renders) == 1
    # different facts: a new document
    other = fetch_rendered(client, _pdf_url({**ESTIMATE, "grade": "5"}))
    assert other.status_code == 200 and other.data != first.data and len(renders) == 2
    assert client.get(_pdf_url({**ESTIMATE, "grade": "5"})).data == other.data and len(renders) == 2


def test_document_cache_is_bounded_by_count_and_bytes():
    cache = DocumentCache(max_entries=3, max_bytes=400)
    for key in "abcd":
        cache.put(key, b"x" * 10)
    assert len(cache) == 3 and cache.get("a") is None and cache.get("b") == b"x" * 10
    cache.put("big", b"y" * 90)
    cache.put("big2", b"y" * 90)
    cache.put("big3", b"y" * 90)
    assert cache._size <= 400 and len(cache) <= 3
    cache.put("huge", b"z" * 101)  # over a quarter of the budget: served, never kept
    assert cache.get("huge") is None
    rendered = []
    assert cache.get_or_render("k", lambda: rendered.append(1) or b"doc") == b"doc"
    assert cache.get_or_render("k", lambda: rendered.append(1) or b"doc") == b"doc"
    assert rendered == [1] and cache.renders == 1


def test_a_changed_template_or_included_template_is_a_new_document():
    templates = {"doc.html": '{% extends "base.html" %}{% import "parts.html" as p %}x', "base.html": "b",
                 "parts.html": "p"}
    env = Environment(loader=DictLoader(templates))
    before = template_fingerprint(env, "doc.html")
    templates["parts.html"] = "p2"
    assert template_fingerprint(env, "doc.html") != before


# --- spreadsheets -------------------------------------------------------------------------------

LAYOUT = Layout(columns=(Column("name", "姓名"),), max_bytes=10 * 1024 * 1024)
_PACKAGE = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}


def _cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _xlsx(blank_rows: int, names: tuple[str, ...] = ("张三",), *, extra: dict[str, bytes] | None = None,
          gap_blank_rows: bool = False) -> bytes:
    """An .xlsx written directly (openpyxl would take minutes for millions of rows): a header, the
    blank rows, then one data row per name. ``gap_blank_rows`` leaves the blank rows out of the XML
    (a row number jump), which openpyxl still reads as that many blank rows."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _PACKAGE.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                        b'spreadsheetml/2006/main"><sheetData><row r="1">' + _cell("A1", "姓名") + b"</row>")
            if not gap_blank_rows:
                step = 200_000
                for start in range(2, blank_rows + 2, step):
                    sheet.write(b"".join(b'<row r="%d"/>' % r for r in range(start, min(start + step, blank_rows + 2))))
            for i, name in enumerate(names):
                r = blank_rows + 2 + i
                sheet.write(f'<row r="{r}">'.encode() + _cell(f"A{r}", name) + b"</row>")
            sheet.write(b"</sheetData></worksheet>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _read(data: bytes, limits: SheetLimits | None = None, filename: str = "a.xlsx") -> list:
    return [row.values for row in spreadsheets.read_rows(filename, data, LAYOUT, limits)]


def test_two_million_blank_rows_are_refused_in_a_moment():
    data = _xlsx(2_000_000)
    assert len(data) < 8 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(SpreadsheetError) as refused:
        _read(data)
    assert time.monotonic() - started < 3
    assert "行（含空行）" in refused.value.message and "未导入" in refused.value.message


@pytest.mark.parametrize("gap", [False, True], ids=["blank-rows-in-xml", "row-number-jump"])
def test_blank_rows_count_towards_the_rows_read(gap):
    limits = SheetLimits(max_rows_read=1000)
    assert _read(_xlsx(900, gap_blank_rows=gap), limits) == [{"name": "张三"}]
    with pytest.raises(SpreadsheetError, match=r"超过 1000 行（含空行）"):
        _read(_xlsx(1000, gap_blank_rows=gap), limits)


def test_csv_blank_lines_count_towards_the_rows_read():
    data = ("姓名\r\n" + "\r\n" * 1200 + "张三\r\n").encode()
    with pytest.raises(SpreadsheetError, match=r"超过 1000 行（含空行）"):
        _read(data, SheetLimits(max_rows_read=1000), "a.csv")


def test_zip_bombs_are_refused_before_openpyxl_opens_them():
    # 60 MB of one byte in a ~60 KB part: over the unzipped total
    big = _xlsx(0, extra={"xl/media/padding.bin": b"\0" * (60 * 1024 * 1024)})
    assert len(big) < 1024 * 1024
    with pytest.raises(SpreadsheetError, match=r"文件解压后超过 50 MB"):
        _read(big)
    # 8 MB compressed to a few KB: an abnormal ratio even under the total
    dense = _xlsx(0, extra={"xl/sharedStrings.xml": b" " * (8 * 1024 * 1024)})
    with pytest.raises(SpreadsheetError, match=r"压缩大小的 100 倍以上"):
        _read(dense)


def test_processing_time_is_capped(monkeypatch):
    ticks = iter(range(10_000))
    monkeypatch.setattr(spreadsheets, "_clock", lambda: float(next(ticks)))  # one "second" per look
    limits = SheetLimits(max_seconds=5)
    with pytest.raises(SpreadsheetError, match=r"文件处理超过 5 秒"):
        _read(_xlsx(0, names=tuple(f"人员{i}" for i in range(20))), limits)
    ticks = iter(range(10_000))
    assert len(_read(_xlsx(0, names=("甲", "乙")), SheetLimits(max_seconds=50))) == 2


@pytest.fixture
def approved_unit(app, actor_for):
    from portal.enrollment import service as enrollment
    from tests.enrollment.conftest import UNIT_FIELDS

    employer, clerk = actor_for("employer"), actor_for("clerk")
    with app.app_context(), app.extensions["portal.database"].write_transaction() as sess:
        unit = enrollment.save_unit(sess, employer, **UNIT_FIELDS)
        enrollment.submit_unit(sess, employer)
        enrollment.approve_unit(sess, clerk, unit.id, risk_class=unit.risk_class or 5, band="1.0",
                                effective_date=date(2026, 1, 1))


@pytest.mark.parametrize("app_overrides", [{"spreadsheet_max_seconds": 8}])
def test_an_import_over_its_time_saves_nothing(app, client, login_as, csrf_token, approved_unit, monkeypatch):
    """The deadline runs out after several batches were saved: nothing of them remains."""
    from portal.enrollment.models import UnitMember
    from portal.enrollment.service import imports
    from tests.enrollment.test_imports import csv_bytes, row

    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    login_as(client, "employer")
    start = date.today().isoformat()
    data = csv_bytes([row(801 + 2 * i, start=start) for i in range(9)])
    token = csrf_token(client)
    ticks = iter(range(10_000))
    monkeypatch.setattr(spreadsheets, "_clock", lambda: float(next(ticks)))
    response = client.post("/enrollment/members/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(data), "a.csv")})
    assert response.status_code == 422
    assert "文件处理超过 8 秒" in response.get_data(as_text=True)
    with app.app_context(), app.extensions["portal.database"].read_session() as sess:
        assert sess.execute(select(func.count(UnitMember.id))).scalar_one() == 0


def test_malformed_or_disabled_limits_are_refused_at_start_up():
    from portal.config import ConfigError, load_settings, validate

    with pytest.raises(ConfigError, match="ratelimit_public_pdf"):
        validate(load_settings({"env": "testing", "ratelimit_public_pdf": "ten a minute"}))
    with pytest.raises(ConfigError, match="spreadsheet_max_rows_read"):
        validate(load_settings({"env": "testing", "spreadsheet_max_rows_read": 0}))
