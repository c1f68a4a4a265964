"""Form pieces every area uses: whitespace stripping and dates typed the way people type them."""

from __future__ import annotations

import datetime

from wtforms import DateField


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
