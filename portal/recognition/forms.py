"""Forms of recognition: the applicant's (filing, case page) and the recognition office's
(queue filters, action panel). Field presence and shape here; the rules in the service, which
reports field messages by name (shown beside the fields)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.clocks import service as clocks
from portal.recognition import service
from portal.recognition.models import CaseStatus, EventKind, Outcome
from portal.regions import province
from portal.web.fields import (
    ChoiceField,
    ChoiceRadio,
    LocalDateField,
    MultiCheckboxField,
    NotFormula,
    options,
    strip,
)

# --- the applicant's side ---------------------------------------------------------------------------


class NewCaseForm(FlaskForm):
    """Who applies (a worker's account: the worker or a close relative)."""

    applicant_kind = ChoiceRadio("由谁申请", choices=options([("worker", "本人申请（我是受伤害的职工）"),
                                                           ("relative", "近亲属代为申请（含职工死亡的情形）")]))
    relation = ChoiceField("您与受伤害职工的关系", validate_choice=False,
                             choices=options([("", "请选择")] + list(service.relations().items())))


class StartForm(FlaskForm):
    """Only the CSRF token (the employer's "start" button, submit, supply, discard)."""


class WorkerForm(FlaskForm):
    member_id = ChoiceField("从本单位参保人员中选择", validate_choice=False, choices=options([("", "不选择，手工填写")]))
    name = StringField("受伤害职工姓名", filters=[strip], validators=[NotFormula()])
    id_number = StringField("公民身份号码", filters=[strip])


class EmployerForm(FlaskForm):
    uscc = StringField("统一社会信用代码", filters=[strip])
    name = StringField("用人单位名称", filters=[strip], validators=[NotFormula()])
    county_code = StringField("用人单位所在县（区）行政区划代码", filters=[strip])


class EventForm(FlaskForm):
    event_kind = ChoiceRadio("伤害类别", choices=options([(k.value, k.label) for k in EventKind]))
    event_date = LocalDateField("事故伤害发生日期（职业病：诊断或鉴定日期）", validators=[Optional()])
    event_time = StringField("事故发生时间（选填）", filters=[strip])
    event_place = StringField("地点", filters=[strip])
    event_account = TextAreaField("经过", filters=[strip])
    injury = TextAreaField("受伤部位及诊断（或职业病名称）", filters=[strip])
    died = BooleanField("职工已经死亡")
    death_date = LocalDateField("死亡日期", validators=[Optional()])
    late_reason = TextAreaField("超过申请时限的原因（逾期时填写）", filters=[strip])


class UploadForm(FlaskForm):
    kind = HiddenField("材料种类", validators=[InputRequired("请选择材料种类")])
    file = FileField("选择文件")


class ReuseForm(FlaskForm):
    stored_file_id = IntegerField("已有材料", validators=[InputRequired("请选择要复用的材料")])


class SupplementUploadForm(FlaskForm):
    file = FileField("选择文件")


class UrgeForm(FlaskForm):
    text = TextAreaField("催办内容", filters=[strip])


class WithdrawForm(FlaskForm):
    reason = TextAreaField("撤回原因（选填，各方当事人可见，请勿填写病情）", filters=[strip])
    confirm = BooleanField("我确认撤回这份工伤认定申请，撤回后案件办结",
                           validators=[InputRequired("请勾选确认后再撤回")])


# --- the recognition office -------------------------------------------------------------------------

STATUS_CHOICES = ([(service.STATUS_OPEN, "未办结（全部在办）")]
                  + [(s.value, s.label) for s in CaseStatus if s is not CaseStatus.DRAFT]
                  + [(service.STATUS_ALL, "全部（含已办结）")])
CLOCK_CHOICES = [("", "不限"), (service.CLOCK_DUE, "已超期或即将到期"), (service.CLOCK_OVERDUE, "已超期"),
                 (service.CLOCK_NEAR, "即将到期")]


class QueueFilterForm(FlaskForm):
    """The queue's filters (GET: no CSRF token)."""

    class Meta:
        csrf = False

    status = ChoiceField("办理状态", choices=options(STATUS_CHOICES), default=service.STATUS_OPEN)
    clock = ChoiceField("法定期限", choices=options(CLOCK_CHOICES), default="")
    q = StringField("受理编号", filters=[strip], validators=[Optional(), Length(max=32, message="受理编号不能超过32个字符")])
    city_code = ChoiceField("地市", choices=lambda: options([("", "全省")] + [(c.code, c.name) for c in province().cities]),
                            default="")
    page = IntegerField("页码", validators=[Optional(), NumberRange(min=1, max=10_000, message="页码不正确")])


# --- action panel ----------------------------------------------------------------------------------


class SupplementForm(FlaskForm):
    """一次性告知补正: the checked materials with their descriptions, and free-text lines. The
    dynamic fields (``description-<kind>``, ``other-1..3``) are read by the view from the form
    data; this form carries the CSRF token and the form-level errors."""

    OTHER_LINES = 3


class AcceptForm(FlaskForm):
    simplified = ChoiceRadio("是否适用简易程序", choices=lambda: options([
                                 ("no", f"否，自受理之日起{clocks.statutory_period('recognition_decision')}内作出决定"),
                                 ("yes", "是，事实清楚、权利义务明确，"
                                         f"{clocks.statutory_period('recognition_decision_simple')}内作出决定")]),
                             default="no")
    simplified_reason = TextAreaField("适用简易程序的理由", filters=[strip],
                                      validators=[Length(max=service.REASON_MAX,
                                                         message=f"理由不能超过{service.REASON_MAX}个字")])

    def validate_simplified_reason(self, field):
        if self.simplified.data == "yes" and not field.data:
            raise ValidationError("适用简易程序的，请填写理由（事实清楚、权利义务明确的情况）")


#: common reasons for refusing to accept (不予受理), offered as checkboxes beside free text
REFUSAL_REASONS = [
    ("jurisdiction", "用人单位所在地不属于本部门管辖（《工伤保险条例》第十七条第三款）"),
    ("not_employee", "申请人提供的材料不能证明受伤害职工与用人单位存在劳动关系（包括事实劳动关系）"),
    ("not_entitled", "申请人不是受伤害职工本人、其近亲属、工会组织或者用人单位，不具备申请资格"),
    ("out_of_time", "超过《工伤保险条例》第十七条规定的申请时限，且无不计入期限的正当理由"),
    ("not_supplemented", "经一次性告知补正后，申请人仍未补正全部材料"),
]


class RefuseForm(FlaskForm):
    common = MultiCheckboxField("常见理由", choices=options(REFUSAL_REASONS))
    reasons = TextAreaField("其他理由或具体说明", filters=[strip],
                            validators=[Length(max=1500, message="具体说明不能超过1500个字")])

    def combined(self) -> str:
        labels = dict(REFUSAL_REASONS)
        lines = [labels[code] for code in (self.common.data or []) if code in labels]
        if self.reasons.data:
            lines.append(self.reasons.data)
        return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1)) if len(lines) > 1 else "".join(lines)

    def validate_reasons(self, field):
        if not (self.common.data or field.data):
            raise ValidationError("请至少选择或填写一项不予受理的理由")


class NoteForm(FlaskForm):
    kind = ChoiceRadio("记录类别", choices=options(service.NOTE_KINDS.items()), default="note")
    text = TextAreaField("内容", filters=[strip],
                         validators=[DataRequired("请填写内容"),
                                     Length(max=service.NOTE_MAX, message=f"内容不能超过{service.NOTE_MAX}个字")])


class SuspendForm(FlaskForm):
    reason = TextAreaField("中止理由", filters=[strip],
                           validators=[DataRequired("请填写中止理由"),
                                       Length(max=service.REASON_MAX, message=f"中止理由不能超过{service.REASON_MAX}个字")])


class ResumeForm(FlaskForm):
    note = TextAreaField("恢复理由（收到的结论）", filters=[strip],
                         validators=[DataRequired("请填写恢复的理由，例如：劳动仲裁裁决书已生效"),
                                     Length(max=service.REASON_MAX, message=f"不能超过{service.REASON_MAX}个字")])


def ground_choices() -> list[tuple[str, str]]:
    return [("", "请选择")] + [(g.code, f"【{Outcome(g.outcome).label}】{g.label}") for g in service.grounds()]


class DecideForm(FlaskForm):
    outcome = ChoiceRadio("认定结论", choices=options((o.value, o.label) for o in Outcome))
    ground_code = ChoiceField("认定依据", choices=options(ground_choices()), default="")
    reasoning = TextAreaField("认定的事实和理由", filters=[strip],
                              validators=[DataRequired("请填写认定的事实和理由"),
                                          Length(max=service.REASONING_MAX,
                                                 message=f"不能超过{service.REASONING_MAX}个字")])

    def validate_ground_code(self, field):
        if not field.data:
            raise ValidationError("请选择认定依据")
        if self.outcome.data:
            codes = {g.code for g in service.grounds(self.outcome.data)}
            if field.data not in codes:
                raise ValidationError("所选认定依据与认定结论不一致，请重新选择")


class ServeForm(FlaskForm):
    """Only the CSRF token: the button that serves the decision."""


class UrgeAnswerForm(FlaskForm):
    answer = TextAreaField("书面答复", filters=[strip],
                           validators=[DataRequired("请填写答复内容"),
                                       Length(max=service.ANSWER_MAX, message=f"答复不能超过{service.ANSWER_MAX}个字")])
