"""Forms of the enrollment area: field presence and shape here, the rules in the services."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from portal.enrollment.models import InsuranceType, UnitStatus
from portal.enrollment.service import CLASS_NAMES
from portal.regions import province
from portal.web.fields import ChoiceField, LocalDateField, NotFormula, options, strip


class UnitForm(FlaskForm):
    uscc = StringField("统一社会信用代码", filters=[strip], validators=[DataRequired("请填写统一社会信用代码")])
    name = StringField("单位名称", filters=[strip],
                       validators=[DataRequired("请填写单位名称"), Length(max=200, message="单位名称不能超过200个字"),
                                   NotFormula()])
    address = StringField("单位地址", filters=[strip],
                          validators=[DataRequired("请填写单位地址"), Length(max=300, message="单位地址不能超过300个字")])
    county_code = StringField("所在县（区）行政区划代码", filters=[strip],
                              validators=[DataRequired("请填写所在县（区）行政区划代码")])
    industry_code = StringField("国民经济行业分类代码", filters=[strip],
                                validators=[DataRequired("请填写国民经济行业分类代码")])
    contact_name = StringField("联系人", filters=[strip],
                               validators=[DataRequired("请填写联系人"), Length(max=100, message="联系人不能超过100个字"),
                                           NotFormula()])
    contact_phone = StringField("联系人手机号码", filters=[strip], validators=[DataRequired("请填写联系人手机号码")])


class SubmitForm(FlaskForm):
    """Only the CSRF token: the button that sends the enrollment for review."""


def band_choices() -> list[tuple[str, str]]:
    """The rate bands (费率浮动档次) of the rate_bands figure in force, e.g. ("1.2", "120%")."""
    from portal.localtime import local_today
    from portal.policy.figures import figure
    from portal.web.filters import percent

    bands = sorted({Decimal(b) for per_class in figure("rate_bands", local_today()).value.values() for b in per_class})
    return [(str(b), percent(b) + ("（基准）" if b == 1 else "")) for b in bands]


class ApproveForm(FlaskForm):
    risk_class = ChoiceField("行业风险类别", validators=[DataRequired("请选择行业风险类别")],
                             choices=options([("", "请选择")] + [(str(k), v) for k, v in CLASS_NAMES.items()]))
    band = ChoiceField("费率浮动档次", validators=[DataRequired("请选择费率浮动档次")],
                       choices=lambda: options(band_choices()), default="1.0")
    effective_date = LocalDateField("参保生效日期", validators=[InputRequired("请填写参保生效日期")])


class ReturnForm(FlaskForm):
    reasons = TextAreaField("退回原因", filters=[strip],
                            validators=[DataRequired("请填写退回原因，告诉单位需要补正什么"),
                                        Length(max=2000, message="退回原因不能超过2000个字")])


TYPE_CHOICES = [(t.value, t.label) for t in InsuranceType]


class MemberForm(FlaskForm):
    name = StringField("姓名", filters=[strip],
                       validators=[DataRequired("请填写姓名"), Length(max=100, message="姓名不能超过100个字"), NotFormula()])
    id_number = StringField("身份证号码", validators=[DataRequired("请填写身份证号码")])
    phone = StringField("手机号码（选填）", filters=[strip], validators=[Optional()])
    wage_base = StringField("月缴费工资基数（元）", filters=[strip], validators=[DataRequired("请填写月缴费工资基数")])
    start_date = LocalDateField("参保日期", validators=[InputRequired("请填写参保日期")])
    insurance_type = ChoiceField("参保类型", choices=options(TYPE_CHOICES), default=InsuranceType.REGULAR.value,
                                 validators=[DataRequired("请选择参保类型")])


class WageForm(FlaskForm):
    wage_base = StringField("新的月缴费工资基数（元）", filters=[strip],
                            validators=[DataRequired("请填写月缴费工资基数")])


class RemoveForm(FlaskForm):
    end_date = LocalDateField("停保日期", validators=[InputRequired("请填写停保日期")])


class ImportForm(FlaskForm):
    file = FileField("参保人员名单文件（.xlsx 或 .csv）")


class InboxFilterForm(FlaskForm):
    class Meta:
        csrf = False

    city_code = ChoiceField("地市", validators=[Optional()])
    status = ChoiceField("状态", validators=[Optional()],
                         choices=options([("all", "全部状态")] + [(s.value, s.label) for s in UnitStatus
                                                                if s is not UnitStatus.DRAFT]))
    county_code = StringField("县（区）代码", filters=[strip], validators=[Optional(), Length(
        min=6, max=6, message="县（区）代码应为6位数字")])
    q = StringField("单位名称或信用代码", filters=[strip], validators=[Optional(), Length(max=100)])
    page = IntegerField("页码", default=1, validators=[Optional(), NumberRange(min=1, max=100000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.city_code.choices = options([("", "全部地市")] + [(c.code, c.name) for c in province().cities])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.county_code.data and not self.county_code.data.isdigit():
            self.county_code.errors.append("县（区）代码应为6位数字")
            return False
        return ok


class MembersFilterForm(FlaskForm):
    class Meta:
        csrf = False

    show = ChoiceField("显示", validators=[Optional()],
                       choices=options([("current", "在保人员"), ("ended", "已停保人员"), ("flagged", "需复核人员"),
                                        ("all", "全部（含历史）")]), default="current")
    page = IntegerField("页码", default=1, validators=[Optional(), NumberRange(min=1, max=100000)])
