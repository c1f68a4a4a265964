"""Helpers of the applicant-side tests: fill in a draft through the filing services, with real
(small) PNG and PDF uploads. Import what you need; fixtures ``people`` and ``files_dir`` come
from tests/recognition/factories.py."""

from __future__ import annotations

from datetime import date

from portal.clocks.calendar import WorkCalendar
from portal.recognition import service as recognition
from tests.materials import samples

CAL = WorkCalendar()
EMPLOYER_USCC = "91340100MA2N0A1B5E"
INJURY = "右手食指近节指骨骨折"


def fill_draft(sess, actor, *, kind: str = "worker", files_dir, today: date, event_date: date | None = None,
               event_kind: str = "accident", died: bool = False, death_date: date | None = None,
               late_reason: str | None = None, worker=("张伟", "340104199003071235"),
               materials: bool = True, relation: str = "spouse"):
    """A draft with every step done (materials: one small file per required slot)."""
    case = recognition.create_draft(sess, actor, applicant_kind=kind, relation=relation if kind == "relative" else None)
    if kind != "worker":
        recognition.save_worker(sess, actor, case.id, name=worker[0], id_number=worker[1], today=today)
    if kind != "employer" or "employer" not in case.steps:
        recognition.save_employer(sess, actor, case.id, uscc=EMPLOYER_USCC, name="安徽皖建建设工程有限公司",
                                  county_code="340104")
    recognition.save_event(sess, actor, case.id, event_kind=event_kind, event_date=event_date or today,
                           event_time="09:30", event_place="合肥市蜀山区某工地3号楼",
                           event_account="在脚手架上搬运钢管时被滑落的钢管砸伤右手。", injury=INJURY, died=died,
                           death_date=death_date, late_reason=late_reason, today=today, calendar=CAL)
    if materials:
        upload_required(sess, actor, case, files_dir)
    return case


def upload_required(sess, actor, case, files_dir):
    for n, rule in enumerate(recognition.required_rules(case)):
        data = samples.pdf() if n % 2 else samples.png()
        name = f"{rule.kind}.{'pdf' if n % 2 else 'png'}"
        recognition.add_material(sess, actor, case.id, kind=rule.kind, data=data, filename=name, files_dir=files_dir)
