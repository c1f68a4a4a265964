"""The estimator's form (待遇测算): a GET form, so a result has an address and needs no session.

The form only renders fields and carries what was typed. Checking is done by
:func:`portal.benefits.facts.parse_facts`, the same function the command line uses, and its
messages are put back beside the fields: the page and ``portal benefits estimate`` say the same.
"""

from __future__ import annotations

from typing import Any

from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice

from portal.benefits.facts import CareLevel, Relation
from portal.regions import province
from portal.web.fields import strip

#: rows of dependants the page offers (the command line takes up to 20)
DEPENDANT_ROWS = 6
GRADE_CHOICES = [SelectChoice("", "请选择")] + [SelectChoice(str(g), f"{name}伤残") for g, name in enumerate(
    ("一级", "二级", "三级", "四级", "五级", "六级", "七级", "八级", "九级", "十级"), start=1)]
CARE_CHOICES = [SelectChoice("", "不需要生活护理或尚未鉴定")] + [SelectChoice(c.value, c.label) for c in CareLevel]
SEX_CHOICES = [SelectChoice("", "不填"), SelectChoice("male", "男"), SelectChoice("female", "女")]
ORIGINAL_AGE_CHOICES = [SelectChoice("", "不填（男职工不填）"),
                        SelectChoice("50", "50周岁（一般为女工人）"), SelectChoice("55", "55周岁（一般为女干部）")]
RELATION_CHOICES = [SelectChoice("", "（不填）")] + [SelectChoice(r.value, r.label) for r in Relation]

#: the fields whose presence in the query means "estimate this"
FACT_FIELDS = ("date", "outcome", "grade", "own_monthly_wage", "average_monthly_wage", "ends_employment",
               "suitable_work", "care_level", "paid_leave_days", "leaving_date", "years_to_retirement",
               "birth_date", "sex", "original_retirement_age", "minimum_wage", "after_paid_leave", "city",
               "review_grade", "review_date")


class DependantForm(Form):
    relation = SelectField("亲属关系", choices=RELATION_CHOICES, validate_choice=False)
    alone = BooleanField("孤寡老人或孤儿")


class EstimateForm(Form):
    date = StringField("受伤或死亡日期", filters=[strip])
    outcome = RadioField("伤残或死亡", choices=[SelectChoice("disability", "致残（已评定或预计的伤残等级）"),
                                                SelectChoice("death", "因工死亡")], validate_choice=False)
    grade = SelectField("伤残等级", choices=GRADE_CHOICES, validate_choice=False)
    own_monthly_wage = StringField("本人月工资（元）", filters=[strip])
    average_monthly_wage = StringField("上年度职工月平均工资（元，可不填）", filters=[strip])
    care_level = SelectField("生活护理等级", choices=CARE_CHOICES, validate_choice=False)
    paid_leave_days = StringField("停工留薪期天数（可不填）", filters=[strip])
    ends_employment = BooleanField("五至十级：解除或终止劳动关系")
    suitable_work = BooleanField("五、六级：用人单位已安排适当工作")
    leaving_date = StringField("解除或终止劳动关系日期（可不填）", filters=[strip])
    years_to_retirement = StringField("距法定退休年龄的年数（可不填）", filters=[strip])
    #: or, instead of the years: the statutory retirement age is computed (2025 gradual reform)
    birth_date = StringField("出生日期（可不填）", filters=[strip])
    sex = SelectField("性别", choices=SEX_CHOICES, validate_choice=False)
    original_retirement_age = SelectField("女职工原法定退休年龄", choices=ORIGINAL_AGE_CHOICES, validate_choice=False)
    minimum_wage = StringField("当地最低工资标准（元/月，可不填）", filters=[strip])
    #: the pooling area before provincial pooling, and the area of the minimum wage
    city = SelectField("所在市（可不填）", choices=[], validate_choice=False)
    #: 复查鉴定 that changed the grade (人社部发〔2025〕62号 第十一条)
    review_grade = SelectField("复查鉴定后的伤残等级（可不填）", choices=GRADE_CHOICES, validate_choice=False)
    review_date = StringField("复查鉴定结论作出日期（可不填）", filters=[strip])
    after_paid_leave = BooleanField("一至四级伤残职工在停工留薪期满后死亡")
    dependants = FieldList(FormField(DependantForm), min_entries=DEPENDANT_ROWS, max_entries=DEPENDANT_ROWS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the province's cities come from configuration (config/regions.toml), read per form
        self.city.choices = [SelectChoice("", "不选")] + [SelectChoice(c.code, c.name) for c in province().cities]

    def facts_data(self) -> tuple[dict[str, Any], dict[int, int]]:
        """What was typed, as :func:`parse_facts` reads it, and which row each dependant came from."""
        data: dict[str, Any] = {name: self[name].data for name in FACT_FIELDS}
        dependants, rows = [], {}
        for row, entry in enumerate(self.dependants):
            if entry.form.relation.data:
                rows[len(dependants)] = row
                dependants.append({"relation": entry.form.relation.data, "alone": bool(entry.form.alone.data)})
        data["dependants"] = dependants
        return data, rows

    def submitted(self, args) -> bool:
        return any(args.get(name) for name in FACT_FIELDS)
