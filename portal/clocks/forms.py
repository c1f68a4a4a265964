"""Forms of the holiday override page: field presence and shape here, the rules in the service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from portal.clocks.calendar import DayKind
from portal.clocks.service import NAME_MAX, SOURCE_MAX
from portal.web.fields import ChoiceField, LocalDateField, strip


class OverrideForm(FlaskForm):
    day = LocalDateField("日期", validators=[InputRequired("请填写日期")])
    kind = ChoiceField("类型", choices=[SelectChoice(k.value, k.label) for k in DayKind],
                       validators=[DataRequired("请选择类型")])
    name = StringField("节日名称", filters=[strip],
                       validators=[DataRequired("请填写节日名称"),
                                   Length(max=NAME_MAX, message=f"节日名称不能超过{NAME_MAX}个字")])
    source = StringField("依据", filters=[strip],
                         validators=[DataRequired("请填写依据"),
                                     Length(max=SOURCE_MAX, message=f"依据不能超过{SOURCE_MAX}个字")])


class YearCompleteForm(FlaskForm):
    source = StringField("依据", filters=[strip],
                         validators=[DataRequired("请填写依据（放假安排通知的名称和文号）"),
                                     Length(max=SOURCE_MAX, message=f"依据不能超过{SOURCE_MAX}个字")])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: remove an override, withdraw a year's mark."""
