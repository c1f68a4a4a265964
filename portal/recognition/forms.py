"""Forms of the applicant's side of recognition: field shape here, the rules in ``filing`` and
``applicant`` (which report field messages by name, shown beside the fields)."""

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
from wtforms.validators import InputRequired, Optional

from portal.recognition import policy
from portal.recognition.models import EventKind
from portal.web.fields import ChoiceField, ChoiceRadio, LocalDateField, options, strip


class NewCaseForm(FlaskForm):
    """Who applies (a worker's account: the worker or a close relative)."""

    applicant_kind = ChoiceRadio("由谁申请", choices=options([("worker", "本人申请（我是受伤害的职工）"),
                                                           ("relative", "近亲属代为申请（含职工死亡的情形）")]))
    relation = ChoiceField("您与受伤害职工的关系", validate_choice=False,
                             choices=options([("", "请选择")] + list(policy.relations().items())))


class StartForm(FlaskForm):
    """Only the CSRF token (the employer's "start" button, submit, supply, discard)."""


class WorkerForm(FlaskForm):
    member_id = ChoiceField("从本单位参保人员中选择", validate_choice=False, choices=options([("", "不选择，手工填写")]))
    name = StringField("受伤害职工姓名", filters=[strip])
    id_number = StringField("公民身份号码", filters=[strip])


class EmployerForm(FlaskForm):
    uscc = StringField("统一社会信用代码", filters=[strip])
    name = StringField("用人单位名称", filters=[strip])
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
