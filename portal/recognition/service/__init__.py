"""The public functions of work-injury recognition (工伤认定): the only module routes and other
areas import. The use cases live beside this file:

- ``filing``: the applicant's task list (draft, steps, materials) and submission;
- ``applicant``: the parties' case page, supplement (补正), pressing (催办) and withdrawal;
- ``handling``: the recognition office's case page and actions, written answers to 催办;
- ``queue``: the office's case queue, filtered, sorted and paged in SQL on the stored due dates;
- ``supervision``: the province's overdue overview (超期监督);
- ``states``: the procedure as a state machine (:data:`CASE_STATES`), whose effects are
  ``platform`` (一网通办 stages through the outbox) and ``notices`` (the parties' inboxes);
- ``cases`` (who sees which case, numbering), ``clock`` (the statutory deadline running now),
  ``documents`` and ``receipt`` (the PDFs), ``policy`` (config/policy/recognition.toml),
  ``access`` (who may read a case's files).
"""

from portal.recognition.service.access import case_file_rule
from portal.recognition.service.applicant import (
    CaseRow,
    CaseView,
    SupplementIncomplete,
    UrgeNotAllowed,
    case_view,
    list_cases,
    load_party_case,
    may_withdraw,
    read_party_case,
    read_receipt,
    submitted_case,
    supplement_items,
    supply,
    upload_supplement,
    urge,
    withdraw,
)
from portal.recognition.service.cases import (
    INVALID_FIELDS,
    OFFICE_ROLES,
    CaseNotFound,
    is_party,
    load_case,
    may_see_medical,
    office_name,
    visible_cases,
)
from portal.recognition.service.clock import (
    DUE_OVERDUE,
    DUE_THIS_WEEK,
    CaseClock,
    applicant_deadline,
    case_clock,
    cases_due,
    recompute_due_dates,
    refresh_due_dates,
)
from portal.recognition.service.filing import (
    STEP_TITLES,
    AlreadySubmitted,
    FilingWindow,
    IncompleteFiling,
    add_material,
    applicant_name,
    create_draft,
    discard_draft,
    filing_window,
    load_draft,
    material_label,
    material_slots,
    member_choices,
    own_unit,
    problems,
    relied_on,
    remove_material,
    required_rules,
    reuse_material,
    save_employer,
    save_event,
    save_worker,
    step_states,
    submit,
)
from portal.recognition.service.handling import (
    ANSWER_MAX,
    NOTE_KINDS,
    NOTE_MAX,
    OTHER_ITEM,
    REASON_MAX,
    REASONING_MAX,
    SUPPLEMENT_NOTICE,
    SUSPENSION_NOTICE,
    OfficeCaseView,
    SupplementRequest,
    UrgeAlreadyAnswered,
    UrgeNotFound,
    accept_case,
    add_note,
    answer_urge,
    decide_case,
    delivery_records,
    office_view,
    read_case,
    refuse_case,
    request_supplement,
    resume_case,
    serve_case,
    suspend_case,
    urge_case_id,
)
from portal.recognition.service.policy import (
    applicant_role,
    applicant_rule,
    ground,
    grounds,
    relations,
)
from portal.recognition.service.queue import (
    CLOCK_DUE,
    CLOCK_NEAR,
    CLOCK_OVERDUE,
    STATUS_ALL,
    STATUS_OPEN,
    QueuePage,
    QueueRow,
    list_queue,
    queue_rows,
)
from portal.recognition.service.states import (
    APPLICANT_ACTIONS,
    CASE_STATES,
    TRANSITIONS,
    IllegalTransition,
    allowed_actions,
)
from portal.recognition.service.supervision import (
    CityRow,
    city_overview,
    due_cases,
    overview_totals,
)

__all__ = [
    # who sees what, the office of a city
    "INVALID_FIELDS", "OFFICE_ROLES", "CaseNotFound", "is_party", "load_case", "may_see_medical",
    "office_name", "visible_cases", "case_file_rule",
    # the procedure
    "APPLICANT_ACTIONS", "CASE_STATES", "TRANSITIONS", "IllegalTransition", "allowed_actions",
    "CaseClock", "case_clock",
    # due dates stored on the case
    "DUE_OVERDUE", "DUE_THIS_WEEK", "applicant_deadline", "cases_due", "recompute_due_dates",
    "refresh_due_dates",
    # filing (the applicant's task list)
    "STEP_TITLES", "AlreadySubmitted", "FilingWindow", "IncompleteFiling", "add_material", "applicant_name",
    "create_draft", "discard_draft", "filing_window", "load_draft", "relied_on", "material_label", "material_slots",
    "member_choices", "own_unit", "problems", "remove_material", "required_rules", "reuse_material",
    "save_employer", "save_event", "save_worker", "step_states", "submit",
    # the parties' case page
    "CaseRow", "CaseView", "SupplementIncomplete", "UrgeNotAllowed", "case_view", "list_cases",
    "load_party_case", "may_withdraw", "read_party_case", "read_receipt", "submitted_case",
    "supplement_items", "supply", "upload_supplement", "urge", "withdraw",
    # the recognition office
    "ANSWER_MAX", "CLOCK_DUE", "CLOCK_NEAR", "CLOCK_OVERDUE", "NOTE_KINDS", "NOTE_MAX", "OTHER_ITEM",
    "REASON_MAX", "REASONING_MAX", "STATUS_ALL", "STATUS_OPEN", "SUPPLEMENT_NOTICE", "SUSPENSION_NOTICE",
    "OfficeCaseView", "QueuePage", "QueueRow", "SupplementRequest", "UrgeAlreadyAnswered", "UrgeNotFound",
    "accept_case", "add_note", "answer_urge", "decide_case", "delivery_records", "list_queue", "office_view",
    "queue_rows", "read_case", "refuse_case", "request_supplement", "resume_case", "serve_case",
    "suspend_case", "urge_case_id",
    # the province's supervision
    "CityRow", "city_overview", "due_cases", "overview_totals",
    # policy lists
    "applicant_role", "applicant_rule", "ground", "grounds", "relations",
]
