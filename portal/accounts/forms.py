"""Forms of the accounts area."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.web.fields import strip


class BankAccountForm(FlaskForm):
    bank_name = StringField("开户银行", filters=[strip],
                            validators=[DataRequired("请填写开户银行"), Length(max=100, message="开户银行名称过长")])
    account_number = StringField("银行账号", filters=[strip],
                                 validators=[DataRequired("请填写银行账号")])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a clerk's button (确认为同一人 / 不是同一人)."""
