"""Filter form of the audit browser (GET, so no CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from portal.regions import province


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField("操作类型", validators=[Optional()])
    city_code = SelectField("地市", validators=[Optional()], validate_choice=True)
    actor_account_id = IntegerField("操作人账号编号", validators=[Optional(), NumberRange(min=1, message="账号编号应为正整数")])
    object_type = StringField("对象类型", validators=[Optional()])
    object_id = StringField("对象编号", validators=[Optional()])
    date_from = DateField("起始日期", validators=[Optional()])
    date_to = DateField("截止日期", validators=[Optional()])
    page = IntegerField("页码", default=1, validators=[Optional(), NumberRange(min=1, max=100000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.city_code.choices = [SelectChoice("", "全部地市")] + [SelectChoice(c.code, c.name)
                                                                 for c in province().cities]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.date_from.data and self.date_to.data and self.date_from.data > self.date_to.data:
            self.date_to.errors.append("截止日期不能早于起始日期")
            return False
        return ok
