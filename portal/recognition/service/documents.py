"""The written documents of the recognition office (工伤认定文书) as PDFs:

  受理决定书 (acceptance), 不予受理决定书 (refusal), 补正材料通知书 (one-time supplement notice),
  中止通知书 (suspension notice), and the decision: 认定工伤决定书 / 视同工伤决定书 / 不予认定工伤决定书.

Plain Python, no Flask: templates under ``templates/recognition/documents/`` are rendered with a
small Jinja environment of their own (so services, the CLI and tests can issue documents), then
``portal.documents.html_to_pdf`` (WeasyPrint, CJK fonts embedded). Periods of appeal come from the
deadline rules (``administrative_reconsideration``, ``administrative_litigation``), never from
literals in the templates.

Who may read the stored PDFs: ``access.case_file_rule`` (files linked to a case).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from portal.characters import without_invisible_controls
from portal.clocks import service as clocks
from portal.config import PROJECT_ROOT
from portal.documents import html_to_pdf
from portal.localtime import cn_date
from portal.materials import service as materials
from portal.recognition.models import Outcome, RecognitionCase, SupplementItem
from portal.recognition.service import policy
from portal.recognition.service.cases import office_name
from portal.regions import city_name, province

TEMPLATES = PROJECT_ROOT / "templates"

DECISION_TITLES = {Outcome.RECOGNISED: "认定工伤决定书", Outcome.DEEMED: "视同工伤决定书",
                   Outcome.NOT_RECOGNISED: "不予认定工伤决定书"}

#: the legal basis printed on each decision, by outcome (《工伤保险条例》)
DECISION_BASIS = {
    Outcome.RECOGNISED: "《工伤保险条例》第十四条、第十七条、第二十条",
    Outcome.DEEMED: "《工伤保险条例》第十五条、第十七条、第二十条",
    Outcome.NOT_RECOGNISED: "《工伤保险条例》第十四条、第十五条、第十六条、第二十条",
}



@lru_cache(maxsize=1)
def document_environment() -> Environment:
    """The Jinja environment of the documents this area issues (letters, the receipt): built once,
    outside any request, with the same date filter and statutory periods as the pages."""
    from portal.clocks import service as clocks

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      finalize=without_invisible_controls)
    env.filters["cn_date"] = cn_date
    env.globals["statutory_period"] = clocks.statutory_period
    env.globals["served_province"] = province
    return env


def render_html(template: str, **context) -> str:
    return document_environment().get_template(f"recognition/documents/{template}").render(**context)


def decision_title(outcome: Outcome) -> str:
    return DECISION_TITLES[outcome]


@dataclass(frozen=True)
class Appeal:
    """The rights of appeal printed on a decision (救济途径)."""

    reconsideration_period: str  #: 60日
    reconsideration_source: str  #: 《行政复议法》（2023年修订）第二十条
    reconsideration_body: str  #: 合肥市人民政府
    litigation_period: str  #: 6个月
    litigation_source: str  #: 《行政诉讼法》第四十六条

    @property
    def sentence(self) -> str:
        """The rights of appeal in one sentence, for notices and pages."""
        return (f"不服的，可以自收到之日起{self.reconsideration_period}内向{self.reconsideration_body}"
                f"申请行政复议（{self.reconsideration_source}），或者{self.litigation_period}内向人民法院"
                f"提起行政诉讼（{self.litigation_source}）。")


def _rule(key: str, on: date) -> clocks.Rule:
    try:
        return clocks.rule(key, on)
    except clocks.RuleNotInForce:
        return next(r for r in clocks.rules() if r.key == key)


def appeal_rights(case: RecognitionCase, on: date) -> Appeal:
    reconsideration = _rule("administrative_reconsideration", on)
    litigation = _rule("administrative_litigation", on)
    body = province().office("government", case.city_code) or "本级人民政府"
    return Appeal(reconsideration.period_label, reconsideration.source, body,
                  litigation.period_label, litigation.source)


def _parties(case: RecognitionCase) -> dict:
    from portal.security.masking import mask_id_number

    worker = case.worker
    if case.applicant_person is not None:
        applicant = case.applicant_person.name
    elif case.employer is not None and case.applicant_organisation_id == case.employer_organisation_id:
        applicant = case.employer.name
    else:
        applicant = "—"
    return {
        "applicant": applicant,
        "applicant_role": policy.applicant_role(case),
        "worker_name": worker.name if worker else "—",
        "worker_id": mask_id_number(worker.id_number) if worker and worker.id_number else "—",
        "employer": case.employer.name if case.employer else "—",
        "office": office_name(case.city_code),
        "city": city_name(case.city_code) if case.city_code else "",
    }


def _pdf(template: str, **context) -> bytes:
    return html_to_pdf(render_html(template, **context))


def supplement_notice_pdf(case: RecognitionCase, *, number: str, items: list[SupplementItem], on: date,
                          running: clocks.Deadline | None) -> bytes:
    """补正材料通知书 (《工伤认定办法》第八条): the one list of everything missing."""
    review_rule = _rule("supplement_review", on)
    return _pdf("supplement_notice.html", case=case, number=number, on=on, running=running,
                items=[(materials.kind_label(i.kind) if i.kind != "other" else "其他材料", i.description)
                       for i in items],
                review_rule=review_rule, **_parties(case))


def acceptance_pdf(case: RecognitionCase, *, number: str, on: date, calendar: clocks.WorkCalendar) -> bytes:
    """受理决定书: receipt and acceptance dates, the decision limit (60 days, 15 under the
    simplified procedure) counted by the rule, suspension, the employer's burden of proof."""
    key = "recognition_decision_simple" if case.simplified else "recognition_decision"
    rule = clocks.rule(key, on)
    due = problem = provisional = None
    try:
        found = clocks.deadline(rule, on, calendar=calendar)
        due, provisional = found.due_date, found.provisional_reason
    except clocks.CalendarUnknown as exc:
        problem = exc.message
    return _pdf("acceptance.html", case=case, number=number, on=on, rule=rule, due=due, problem=problem,
                provisional=provisional, **_parties(case))


def refusal_pdf(case: RecognitionCase, *, number: str, on: date) -> bytes:
    """不予受理决定书: the reasons and the rights of appeal."""
    return _pdf("refusal.html", case=case, number=number, on=on, appeal=appeal_rights(case, on),
                **_parties(case))


def suspension_notice_pdf(case: RecognitionCase, *, number: str, reason: str, on: date) -> bytes:
    """中止通知书 (《工伤保险条例》第二十条第三款; 《工伤认定办法》第二十条)."""
    return _pdf("suspension_notice.html", case=case, number=number, reason=reason, on=on, **_parties(case))


def decision_pdf(case: RecognitionCase, *, number: str, ground, on: date) -> bytes:
    """The recognition decision: title per outcome, number, parties, facts, the ground's article
    and text, the legal basis, the rights of appeal, the office's seal line and the date."""
    assert case.outcome is not None
    return _pdf("decision.html", case=case, number=number, on=on, ground=ground,
                title=decision_title(case.outcome), basis=DECISION_BASIS[case.outcome],
                appeal=appeal_rights(case, on), **_parties(case))
