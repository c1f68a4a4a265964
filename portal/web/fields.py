"""Form pieces every area uses: whitespace stripping, dates typed the way people type them, and
the name validator (:class:`NotFormula`)."""

from __future__ import annotations

import datetime

from wtforms import DateField, RadioField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.characters import is_formula_like


def strip(value):
    """Field filter: leading and trailing spaces never count (a pasted ID number often has them)."""
    return value.strip() if isinstance(value, str) else value


class LocalDateField(DateField):
    """A calendar date (Beijing date) typed as YYYY-MM-DD, with a Chinese message when it is not
    a real date (e.g. 2027-02-30)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = datetime.datetime.strptime(valuelist[0].strip(), "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text}格式不正确，请按 2026-01-31 的格式填写") from None


def options(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as choices for the fields below."""
    return [SelectChoice(value, label) for value, label in pairs]


def _check_choice(field, message: str) -> None:
    if field.data not in {str(choice.value) for choice in field.choices}:
        raise ValidationError(message.format(label=field.label.text))


class ChoiceField(SelectField):
    """A select whose "not one of the choices" message is Chinese."""

    def pre_validate(self, form):
        if self.validate_choice:
            _check_choice(self, "请从列表中选择{label}")


class ChoiceRadio(RadioField):
    """Radio buttons whose "nothing chosen / not a choice" message is Chinese."""

    def pre_validate(self, form):
        _check_choice(self, "请选择{label}")


class MultiCheckboxField(SelectMultipleField):
    """Check boxes for several choices, with a Chinese message for a value not offered."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = {str(choice.value) for choice in self.choices}
        if any(v not in allowed for v in (self.data or [])):
            raise ValidationError(f"请从列表中选择{self.label.text}")


class NotFormula:
    """Validator for names (people's, units', projects'): text starting with = + - @ is refused,
    since a spreadsheet that later lists it would run it as a formula. Empty passes (pair it
    with DataRequired or Optional)."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and is_formula_like(field.data):
            raise ValidationError(f"{field.label.text}不能以 = + - @ 开头")
