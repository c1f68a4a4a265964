"""The public estimator reports every wrong field in one answer (issue 13 point 5), beside each
field, not one more after each fix."""

from __future__ import annotations

import re

#: field → a piece of its message
EXPECTED = {"date": "不能晚于今天", "outcome": "伤残或死亡只能是", "grade": "伤残等级应为一级至十级",
            "own_monthly_wage": "本人月工资", "paid_leave_days": "730", "years_to_retirement": "格式不正确"}


def test_every_wrong_field_is_reported_at_once_beside_it(app):
    response = app.test_client().get("/benefits/estimate", query_string={
        "date": "2099-01-01", "outcome": "maybe", "grade": "11", "own_monthly_wage": "abc",
        "paid_leave_days": "9999", "ends_employment": "y", "years_to_retirement": "x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for slot, message in EXPECTED.items():
        beside = re.search(rf'<p class="field__error" id="err-{slot}"[^>]*>(.*?)</p>', html, re.S)
        assert beside and message in beside.group(1), (slot, beside and beside.group(1))
