"""按项目参保 and 实名制花名册: the projects area's public functions, the only module routes and
other areas import (``from portal.projects import service as projects``).

The use cases live beside this file: ``projects`` (a project's enrollment, its state machine and
the paid handler), ``premium`` (项目工伤保险费, a pure function), ``roster`` (the real-name roster),
``roster_import`` (reading a roster file), ``overview`` (the provincial figures), ``poster`` (the
site poster PDF) and ``public_facts`` (what a 项目参保证明 may say).
"""

from portal.projects.models import IllegalProjectTransition
from portal.projects.service.overview import CityRow, per_city
from portal.projects.service.poster import poster_pdf, qr_data_uri
from portal.projects.service.premium import PremiumQuote, quote
from portal.projects.service.projects import (
    PROJECT_STATES,
    SUBJECT_TYPE,
    InboxPage,
    ProjectView,
    change_contract_price,
    check_project_details,
    complete_project,
    enroll_project,
    extend_project,
    get_project,
    inbox,
    inbox_page_query,
    inbox_query,
    my_projects,
    on_bill_paid,
    project_view,
    quote_for,
    record_permit,
    start_project,
    submit_project,
    switch_basis,
)
from portal.projects.service.public_facts import (
    CERTIFICATE_SUBJECT,
    facts_of,
    project_by_code,
)
from portal.projects.service.roster import (
    TEMPLATE_HEADER,
    CoverLine,
    ImportOutcome,
    RosterPage,
    RosterRejected,
    RosterRow,
    RowError,
    WorkerCover,
    WorkerInput,
    add_worker,
    import_workers,
    my_cover,
    read_roster,
    remove_worker,
    worker_cover,
)
from portal.projects.service.roster_import import (
    MAX_BYTES,
    MAX_ROWS,
    ImportFileError,
    read_upload,
    template_csv,
    template_xlsx,
)

__all__ = [
    # a project's enrollment and its state machine (projects)
    "PROJECT_STATES", "IllegalProjectTransition", "SUBJECT_TYPE", "ProjectView", "InboxPage",
    "enroll_project", "check_project_details", "submit_project", "start_project", "complete_project", "change_contract_price",
    "extend_project", "record_permit", "switch_basis", "on_bill_paid", "get_project", "my_projects",
    "project_view", "inbox", "inbox_query", "inbox_page_query", "quote_for",
    # 项目工伤保险费 (premium)
    "PremiumQuote", "quote",
    # 实名制花名册 (roster, roster_import)
    "TEMPLATE_HEADER", "WorkerInput", "RowError", "RosterRejected", "ImportOutcome", "RosterRow",
    "RosterPage", "CoverLine", "add_worker", "import_workers", "remove_worker", "read_roster", "my_cover",
    "WorkerCover", "worker_cover",
    "MAX_BYTES", "MAX_ROWS", "ImportFileError", "read_upload", "template_csv", "template_xlsx",
    # the provincial figures (overview), the site poster (poster)
    "CityRow", "per_city", "poster_pdf", "qr_data_uri",
    # 项目参保证明 (public_facts)
    "CERTIFICATE_SUBJECT", "facts_of", "project_by_code",
]
