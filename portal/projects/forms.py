"""Forms of the projects area (按项目参保, 实名制花名册)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.money import MoneyError, parse_amount
from portal.projects.models import PremiumBasis, ProjectStatus
from portal.web.fields import NotFormula, strip


class _Money:
    def __init__(self, label: str, required: bool = True):
        self.label, self.required = label, required

    def __call__(self, form, field):
        if not field.data and not self.required:
            field.amount = None
            return
        try:
            field.amount = parse_amount(field.data or "", field=self.label)
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None


def _date(label: str, required: bool = True) -> DateField:
    return DateField(label, format="%Y-%m-%d",
                     validators=[DataRequired(f"请填写{label}，格式如 2024-03-01") if required else Optional()])


class ProjectForm(FlaskForm):
    name = StringField("项目名称", filters=[strip],
                       validators=[DataRequired("请填写项目名称"), Length(max=200, message="项目名称不能超过200个字"),
                                   NotFormula()])
    county_code = StringField("项目所在县（市、区）行政区划代码", filters=[strip],
                              validators=[DataRequired("请填写项目所在县（市、区）行政区划代码")])
    permit_number = StringField("施工许可证号", filters=[strip],
                                validators=[Optional(), Length(max=64, message="施工许可证号不能超过64个字符")])
    contract_price = StringField("工程合同价（元）", filters=[strip], validators=[_Money("工程合同价")])
    installation_cost = StringField("建筑安装工程费（元）", filters=[strip],
                                    validators=[_Money("建筑安装工程费", required=False)])
    planned_start = _date("计划开工日期")
    planned_end = _date("计划竣工日期")

    def validate_planned_end(self, field):
        if field.data and self.planned_start.data and field.data <= self.planned_start.data:
            raise ValidationError("计划竣工日期应晚于计划开工日期")


class StartForm(FlaskForm):
    day = _date("开工日期")


class CompleteForm(FlaskForm):
    day = _date("竣工日期")


class PriceForm(FlaskForm):
    contract_price = StringField("变更后的工程合同价（元）", filters=[strip], validators=[_Money("工程合同价")])
    installation_cost = StringField("变更后的建筑安装工程费（元）", filters=[strip],
                                    validators=[_Money("建筑安装工程费", required=False)])


class ExtendForm(FlaskForm):
    planned_end = _date("新的计划竣工日期")
    reason = StringField("延期原因", filters=[strip],
                         validators=[DataRequired("请填写延期原因"), Length(max=200, message="延期原因不能超过200个字")])


class PermitForm(FlaskForm):
    permit_number = StringField("施工许可证号", filters=[strip],
                                validators=[DataRequired("请填写施工许可证号"), Length(max=64, message="施工许可证号不能超过64个字符")])


class BasisForm(FlaskForm):
    basis = SelectField("缴费基数", choices=[SelectChoice(b.value, b.label) for b in PremiumBasis],
                        validators=[DataRequired("请选择缴费基数")])


class WorkerForm(FlaskForm):
    name = StringField("姓名", filters=[strip],
                       validators=[DataRequired("请填写姓名"), Length(max=50, message="姓名过长"), NotFormula()])
    id_number = StringField("身份证号码", filters=[strip], validators=[DataRequired("请填写身份证号码")])
    phone = StringField("手机号码", filters=[strip], validators=[Optional()])
    trade = StringField("工种", filters=[strip], validators=[DataRequired("请填写工种"), Length(max=50, message="工种不能超过50个字")])
    team = StringField("班组", filters=[strip], validators=[Optional(), Length(max=100, message="班组不能超过100个字")])
    entry_date = _date("进场日期")


class ExitForm(FlaskForm):
    exit_date = _date("退场日期")


class RosterUploadForm(FlaskForm):
    file = FileField("花名册文件（.xlsx 或 .csv）", validators=[FileRequired("请选择要上传的文件")])


STATUS_CHOICES = [SelectChoice("", "全部")] + [SelectChoice(s.value, s.label) for s in ProjectStatus
                                              if s is not ProjectStatus.DRAFT]


class InboxFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField("状态", choices=STATUS_CHOICES, validators=[Optional()])
    county = StringField("县（市、区）代码", filters=[strip],
                         validators=[Optional(), Length(min=6, max=6, message="县（市、区）代码应为6位数字")])
    name = StringField("项目名称包含", filters=[strip], validators=[Optional(), Length(max=100, message="项目名称过长")])
    city = StringField("地市代码", filters=[strip],
                       validators=[Optional(), Length(min=6, max=6, message="地市代码应为6位数字")])
    page = IntegerField("页码", validators=[Optional()])

    def validate_county(self, field):
        if field.data and not field.data.isdigit():
            raise ValidationError("县（市、区）代码应为6位数字")
