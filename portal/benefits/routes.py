"""待遇测算 (the public benefits estimator), its PDF, and the policy tables for provincial staff.

The estimator is a GET form: no sign-in, no session, nothing written. With htmx the result
(#estimate-results) updates while the person types, and field messages are swapped in beside
their fields out of band; without JavaScript the form submits and the whole page comes back.

The PDF is rendered by the background worker (``portal.renders``): anyone may ask for it, so it
is rate-limited per address (``ratelimit_public_pdf``) and known by what decides it — the checked
facts, the day, the benefit figures and the templates (:func:`_estimate_pdf_key`). A document
rendered before (this process's document cache, or a job any node finished) is served at once;
otherwise the person gets a page that says 正在生成… and then offers the file.
"""

from __future__ import annotations

from functools import lru_cache

from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from portal.auth.access import public, requires
from portal.auth.roles import Role
from portal.benefits import service
from portal.benefits.forms import DEPENDANT_ROWS, FACT_FIELDS, EstimateForm
from portal.documents import html_to_pdf
from portal.extensions import db_session
from portal.localtime import local_today
from portal.renders import service as renders
from portal.renders.access import requester_secret
from portal.web.limits import (
    document_cache,
    document_key,
    public_pdf_limit,
    template_fingerprint,
)
from portal.web.rendering import wants_fragment

bp = Blueprint("benefits", __name__, url_prefix="/benefits")

RESULTS_ID = "estimate-results"
#: every error slot on the page: one per field, one per dependant row, one for the whole case
ERROR_SLOTS = tuple(FACT_FIELDS) + ("dependants",) + tuple(f"dependants-{i}" for i in range(DEPENDANT_ROWS))


@bp.app_template_filter("benefit_yuan")
def _benefit_yuan(amount) -> str:
    return service.yuan(amount)


@bp.app_template_filter("benefit_label")
def _benefit_label(key: str) -> str:
    return service.label(key)


def _run(form: EstimateForm):
    """(estimate, field errors keyed by error slot, effects, field notes keyed by error slot) for
    what the form carries. A note is a figure that is missing or provisional: said beside its
    field while the estimate of everything else is shown."""
    data, rows = form.facts_data()
    try:
        calculation = service.calculate(data, today=local_today())
    except service.InvalidFacts as exc:
        return None, _by_slot(exc.errors, rows), [], {}
    return calculation.estimate, {}, calculation.effects, _by_slot(calculation.estimate.field_notes, rows)


def _by_slot(messages, rows: dict[int, int]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in messages:
        slot = e.field
        if slot.startswith("dependants."):
            slot = f"dependants-{rows.get(int(slot.split('.')[1]), 0)}"
        elif slot not in ERROR_SLOTS:
            slot = "date"
        out.setdefault(slot, []).append(e.message)
    return out


def _prefill(form: EstimateForm) -> str | None:
    """``?case=<id>``: the date and outcome of the signed-in person's recognition case."""
    raw = request.args.get("case", "")
    if not raw:
        return None
    if not g.actor.is_authenticated:
        return "登录后才能从您的工伤认定案件填入日期；现在可以直接填写。"
    if not raw.isdigit():
        return "没有找到这个工伤认定案件，或者您无权查看"
    case = service.case_prefill(db_session(), g.actor, int(raw))  # 404 when not visible to the actor
    if not form.date.data and case.day is not None:
        form.date.data = case.day.isoformat()
    if not form.outcome.data:
        form.outcome.data = "death" if case.died else "disability"
    if not case.recognised:
        return f"已从案件 {case.reference} 填入日期；该案件尚未认定为工伤，测算仅供参考。"
    return f"已从工伤认定案件 {case.reference} 填入{'死亡' if case.died else '受伤'}日期，请补充其余内容。"


def _context(form: EstimateForm, result, errors, effects, field_notes=None, **extra) -> dict:
    query = request.query_string.decode("utf-8", "replace")
    return {"form": form, "result": result, "errors": errors, "effects": effects, "results_id": RESULTS_ID,
            "field_notes": field_notes or {},
            "error_slots": ERROR_SLOTS, "field_labels": service.FIELD_LABELS, "codes": service.CODES,
            "payer_labels": service.PAYER_LABELS, "period_labels": service.PERIOD_LABELS,
            "cn_date": service.cn_date, "query": query, "today": local_today(), **extra}


@bp.get("/estimate")
@public
def estimate_page():
    """The estimator; with facts in the query, their estimate (422 with field messages if wrong)."""
    form = EstimateForm(request.args)
    note = _prefill(form)
    result, errors, effects, notes = (None, {}, [], {})
    if form.submitted(request.args):
        result, errors, effects, notes = _run(form)
    context = _context(form, result, errors, effects, notes, prefill_note=note,
                       my_cases=service.prefill_cases(db_session(), g.actor))
    if wants_fragment(RESULTS_ID):
        body = render_template("benefits/_results.html", oob=True, **context)
    else:
        body = render_template("benefits/estimate.html", oob=False, **context)
    response = make_response(body, 422 if errors else 200)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


ESTIMATE_PDF_TEMPLATE = "benefits/estimate_pdf.html"
#: the background-rendered document kind of the estimate PDF (``portal.renders``)
ESTIMATE_PDF_KIND = "benefits.estimate"
ESTIMATE_PDF_NAME = "benefits-estimate.pdf"


@lru_cache(maxsize=4)
def _policy_fingerprint(policy: service.BenefitPolicy) -> str:
    """Every version of every benefit figure (value, dates, source): new figures, new documents."""
    return document_key(*(repr(policy.history(key)) for key in policy.keys()))


def _estimate_pdf_key(result, today) -> str:
    """What decides the estimate PDF: the checked facts (not the typed text, so equal inputs
    written differently share a document), the day it is printed on and computed for, the
    benefit figures, the templates and the base URL its links resolve against."""
    env = current_app.jinja_env
    templates = (template_fingerprint(env, ESTIMATE_PDF_TEMPLATE) if env.auto_reload
                 else _fixed_template_fingerprint(env))
    return document_key("benefits.estimate", result.facts, today, _policy_fingerprint(service.benefit_policy()),
                        templates, request.host_url)


@lru_cache(maxsize=8)
def _fixed_template_fingerprint(env) -> str:
    return template_fingerprint(env, ESTIMATE_PDF_TEMPLATE)


@bp.get("/estimate.pdf")
@public
@public_pdf_limit
def estimate_pdf():
    """The estimate as a PDF to print or keep; wrong facts get the page with messages (422)."""
    form = EstimateForm(request.args)
    if not form.submitted(request.args):
        errors = {"date": ["请先填写测算内容，再打印"]}
        return render_template("benefits/estimate.html", oob=False,
                               **_context(form, None, errors, [], prefill_note=None, my_cases=[])), 422
    result, errors, effects, notes = _run(form)
    if errors:
        return render_template("benefits/estimate.html", oob=False,
                               **_context(form, None, errors, [], prefill_note=None, my_cases=[])), 422
    key = _estimate_pdf_key(result, local_today())
    cache = document_cache("benefits.estimate_pdf")
    pdf = cache.get(key)
    if pdf is None:
        pdf = renders.rendered(db_session(), key)
        if pdf is not None:
            cache.put(key, pdf)
    if pdf is None:
        job = renders.start_render(db_session(), kind=ESTIMATE_PDF_KIND, document_key=key,
                                   params={"query": request.query_string.decode("utf-8", "replace"),
                                           "base_url": request.host_url},
                                   owner_secret=requester_secret(create=True), filename=ESTIMATE_PDF_NAME)
        return redirect(url_for("renders.show", token=job.token), 303)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{ESTIMATE_PDF_NAME}"'
    return response


def render_estimate_pdf(params: dict) -> bytes:
    """The estimate PDF for the query a person asked with (the background worker calls this, in
    a request context rebuilt from it, so the document is the one the route would render)."""
    with current_app.test_request_context("/benefits/estimate.pdf", query_string=params["query"],
                                          base_url=params["base_url"]):
        form = EstimateForm(request.args)
        result, errors, effects, notes = _run(form)
        if errors:
            raise ValueError("the facts of a queued estimate no longer check")
        html = render_template(ESTIMATE_PDF_TEMPLATE, **_context(form, result, {}, effects, notes))
        return html_to_pdf(html, base_url=request.host_url)


#: words for the parts of a figure's value on the tables page
_VALUE_WORDS = {"floor": "下限", "cap": "上限", "full": "完全不能自理", "most": "大部分不能自理",
                "partial": "部分不能自理", "spouse": "配偶", "other": "其他亲属", "min": "最少", "max": "最多",
                "used": "估算采用", "points": "增加", "annual": "全年", "data_year": "统计年度",
                "fallback_years": "向前借用年数", "max_fallback_years": "最多借用年数", "scope": "范围",
                "label": "口径", "wage": "上限工资", "scaling": "缩减方法", "ROUND_HALF_UP": "四舍五入到分",
                "province": "全省", "city": "所在市", "own_wage": "本人工资",
                "proportional_largest_remainder": "按比例缩减（最大余数法）"}
_CONFIDENCE_WORDS = {"C": "已核实", "U(sec)": "待核实：多处转载一致", "U(weak)": "待核实：仅一处来源",
                     "U(none)": "待核实：未找到依据"}


def _unit(key: str) -> str:
    if key.endswith("_months"):
        return "个月"
    if key.endswith("_multiple"):
        return "倍"
    if key.endswith(("_rate", "_reduction", "_bounds", "_increase")):
        return "%"
    if key.endswith(("_income", "_wage")) or "wage" in key.split(".")[-1]:
        return "元"
    return ""


def _amount(raw, unit: str) -> str:
    from decimal import Decimal, InvalidOperation

    from portal.web.filters import percent

    text = str(raw)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return _VALUE_WORDS.get(text, text)
    if unit == "%":
        return percent(number)
    return f"{number:f}{unit}" if unit else f"{number:f}"


def _part(name: str) -> str:
    if name.isdigit() and 1 <= int(name) <= 10:
        return f"{'一二三四五六七八九十'[int(name) - 1]}级伤残"
    if name.startswith("under_"):
        return f"不足{name.removeprefix('under_')}年"
    return _VALUE_WORDS.get(name, name)


def figure_lines(key: str, value) -> list[str]:
    """A figure's value as people read it: "一级：27个月", "下限：60%"."""
    unit = _unit(key)
    if isinstance(value, dict):
        return [f"{_part(str(k))}：{_amount(v, '' if k == 'data_year' else unit)}" for k, v in value.items()]
    return [_amount(value, unit)]


@bp.get("/tables")
@requires(Role.PROVINCIAL)
def tables():
    """The benefit figures in force today and every version before and after, with sources."""
    policy = service.benefit_policy()
    today = local_today()
    rows = [{"key": key, "label": service.label(key), "current": policy.at(key, today),
             "history": policy.history(key)} for key in policy.keys()]
    return render_template("benefits/tables.html", rows=rows, today=today, cn_date=service.cn_date,
                           figure_lines=figure_lines, confidence_words=_CONFIDENCE_WORDS)
