"""单位参保登记 and 人员增减: the enrollment area's public functions, the only module routes and
other areas import (``from portal.enrollment import service as enrollment``).

The use cases live beside this file: ``units`` (the unit's enrollment and its state machine),
``members`` (insured persons), ``imports`` (批量增员 from a spreadsheet), ``premiums`` (rates and
monthly premiums, pure functions) and ``public_facts`` (what a 单位参保证明 may say).
"""

from portal.enrollment.models import IllegalUnitTransition
from portal.enrollment.service.imports import (
    HEADERS,
    MAX_BYTES,
    MAX_ROWS,
    ImportFileError,
    ImportRejected,
    ImportResult,
    RowError,
    import_members,
    template_csv,
    template_xlsx,
)
from portal.enrollment.service.members import (
    MemberRow,
    MembersPage,
    UnitCoverLine,
    add_member,
    approved_own_unit,
    change_wage_base,
    members_query,
    my_unit_cover,
    read_member,
    read_members,
    remove_member,
)
from portal.enrollment.service.premiums import (
    CLASS_NAMES,
    Premium,
    RateInfo,
    WageBounds,
    band_percent,
    bands_for,
    industry_sources,
    monthly_premium,
    rate_info,
    rate_percent,
    wage_bounds,
)
from portal.enrollment.service.public_facts import CERTIFICATE_SUBJECT
from portal.enrollment.service.units import (
    UNIT_STATES,
    CityFigures,
    UnitListPage,
    UnitRow,
    UnitView,
    approve_unit,
    create_unit,
    list_units,
    own_unit,
    province_overview,
    read_own_unit,
    read_unit_for_review,
    return_unit,
    save_unit,
    submit_unit,
    unit_form_data,
    unit_list_page_query,
    unit_list_query,
)

__all__ = [
    # the unit's enrollment (units)
    "UNIT_STATES", "IllegalUnitTransition", "UnitView", "UnitRow", "UnitListPage", "CityFigures",
    "own_unit", "unit_form_data", "save_unit", "create_unit", "submit_unit", "read_own_unit",
    "read_unit_for_review", "approve_unit", "return_unit", "list_units", "province_overview",
    "unit_list_query", "unit_list_page_query",
    # insured persons (members)
    "MemberRow", "MembersPage", "approved_own_unit", "add_member", "change_wage_base", "remove_member",
    "read_members", "read_member", "members_query", "UnitCoverLine", "my_unit_cover",
    # 批量增员 (imports)
    "HEADERS", "MAX_BYTES", "MAX_ROWS", "ImportFileError", "ImportRejected", "ImportResult", "RowError",
    "import_members", "template_csv", "template_xlsx",
    # rates and premiums (premiums)
    "CLASS_NAMES", "Premium", "RateInfo", "WageBounds", "band_percent", "bands_for", "monthly_premium",
    "rate_info", "rate_percent", "wage_bounds", "industry_sources",
    # 单位参保证明 (public_facts)
    "CERTIFICATE_SUBJECT",
]
