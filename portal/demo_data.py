"""Sample cases for ``portal demo`` (``--empty`` skips them): every role's pages show something.

Everything is made through the areas' services, as the people would have done it on the pages —
so the audit trail, the timelines, the inboxes, the 一网通办 outbox and the stored due dates are
what the real steps leave. Dates are counted back from the day the demo first starts, so the
clocks show cases on time, near their deadline (即将到期) and overdue (已超期).

What it makes (the demo logins of ``config/sandbox_accounts.toml``, password ``demo``):

- 单位参保: 安徽皖建建设工程有限公司 (``employer``) approved by the Hefei clerk (``clerk``) with
  insured persons; 合肥明远机械制造有限公司 (``employer2``) sent in and waiting for review.
- 按项目参保: a paid project of ``employer`` with a real-name roster, and a submitted one
  waiting for payment (pay it through the tax-platform sandbox).
- 工伤认定: a case in each state — 草稿, 待审查材料 (one overdue, one near its deadline), 待补正,
  已受理 (one overdue with an open 催办, one near, one after a supplement), 中止, 待送达
  (decided), 已送达 (``worker``'s own, recognised) and 不予受理 — with the notices, decisions
  and answers they put in the inboxes.

Loading happens once: a database that already holds a unit, a project or a case is left alone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from portal.auth.roles import Actor, Role

#: the Actor's request id on every audit row the sample data writes
REQUEST_ID = "demo-sample-data"

EMPLOYER_USCC = "91340100MA2N0A1B5E"
EMPLOYER_NAME = "安徽皖建建设工程有限公司"
EMPLOYER2_USCC = "91340100MA2N0E5F43"
EMPLOYER2_NAME = "合肥明远机械制造有限公司"

#: invented site workers: (name, birth date, sequence, trade). Their ID numbers get a valid
#: check digit (GB 11643) and belong to nobody.
SITE_WORKERS = (
    ("王磊", date(1988, 4, 12), "211", "钢筋工"),
    ("刘强", date(1979, 9, 3), "233", "木工"),
    ("陈刚", date(1992, 1, 25), "257", "架子工"),
    ("孙涛", date(1985, 6, 30), "271", "混凝土工"),
    ("周明", date(1990, 11, 8), "293", "电焊工"),
    ("郑华", date(1983, 3, 17), "315", "塔吊司机"),
)
FACTORY_WORKERS = (
    ("吴亮", date(1987, 7, 21), "337", "车工"),
    ("黄伟", date(1994, 2, 14), "359", "装配工"),
)
DECEASED_WORKER = ("张建国", date(1975, 5, 9), "371")


def id_number(birth: date, sequence: str, region: str = "340104") -> str:
    """A resident ID number of the right form: region, birth date, sequence, check digit."""
    from stdnum.cn import ric

    body = f"{region}{birth:%Y%m%d}{sequence}"
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check digit


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 110, 190)).save(out, "PNG")
    return out.getvalue()


def _pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class SampleSummary:
    """What was made, for the demo's banner and the tests."""

    units: int = 0
    members: int = 0
    projects: int = 0
    roster: int = 0
    cases: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        states = "、".join(f"{label} {n}" for label, n in self.cases.items())
        return [f"单位参保 {self.units} 家（参保人员 {self.members} 人），建设项目 {self.projects} 个"
                f"（花名册 {self.roster} 人），工伤认定案件 {sum(self.cases.values())} 件：{states}"]


def has_business_data(sess: Session) -> bool:
    """True once any unit, project or recognition case exists (sample or typed by someone)."""
    from portal.enrollment.models import EnrolledUnit
    from portal.projects.models import Project
    from portal.recognition.models import RecognitionCase

    return bool(sess.scalar(select(exists().where(EnrolledUnit.id.is_not(None))))
                or sess.scalar(select(exists().where(Project.id.is_not(None))))
                or sess.scalar(select(exists().where(RecognitionCase.id.is_not(None)))))


def _actor(sess: Session, username: str) -> Actor:
    """Sign a demo login in as the unified login's callback would, and act as it."""
    from portal.accounts import service as accounts
    from portal.demo import demo_identity

    data = accounts.sign_in(sess, demo_identity(username), "127.0.0.1", REQUEST_ID)
    return Actor(role=Role(data["role"]), account_id=data["account_id"], display_name=data.get("display_name", ""),
                 city_code=data.get("city_code"), person_id=data.get("person_id"),
                 organisation_id=data.get("organisation_id"), office=data.get("office"),
                 client_addr="127.0.0.1", request_id=REQUEST_ID)


class _Loader:
    def __init__(self, sess: Session, *, files_dir: Path, portal_url: str, today: date) -> None:
        from portal.clocks.service import work_calendar

        self.sess, self.files_dir, self.today = sess, files_dir, today
        self.portal_url = portal_url.rstrip("/")
        self.calendar = work_calendar(sess)
        self.summary = SampleSummary()
        self.png, self.pdf = _png(), _pdf()
        who = ("worker", "relative", "employer", "employer2", "clerk", "officer", "province")
        self.actors = {name: _actor(sess, name) for name in who}

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def moment(self, days_ago: int, hour: int = 10) -> datetime:
        """A time on that Beijing day (10:00 local = 02:00 UTC)."""
        local = datetime.combine(self.day(days_ago), time(hour, 0), tzinfo=timezone(timedelta(hours=8)))
        return local.astimezone(timezone.utc)

    # --- 单位参保 -------------------------------------------------------------------------------

    def units(self) -> None:
        from portal.enrollment import service as enrollment

        employer, employer2, clerk = self.actors["employer"], self.actors["employer2"], self.actors["clerk"]
        unit = enrollment.save_unit(self.sess, employer, uscc=EMPLOYER_USCC, name=EMPLOYER_NAME,
                                    address="合肥市蜀山区长江西路 100 号", county_code="340104",
                                    industry_code="E4710", contact_name="王强", contact_phone="13955100011")
        enrollment.submit_unit(self.sess, employer)
        risk_class = unit.risk_class or 3
        band = enrollment.bands_for(risk_class, self.day(200))
        enrollment.approve_unit(self.sess, clerk, unit.id, risk_class=risk_class,
                                band=Decimal("1.0") if Decimal("1.0") in band else band[0],
                                effective_date=self.day(200), today=self.today)
        members = [("张伟", "340104199003071235", "13955100001")]
        members += [(name, id_number(birth, seq), None) for name, birth, seq, _trade in SITE_WORKERS]
        for name, number, phone in members:
            enrollment.add_member(self.sess, employer, name=name, id_number=number, phone=phone or "",
                                  wage_base="6500.00", start_date=self.day(200), insurance_type="regular",
                                  today=self.today)
        self.summary.members = len(members)

        enrollment.save_unit(self.sess, employer2, uscc=EMPLOYER2_USCC, name=EMPLOYER2_NAME,
                             address="合肥市包河区花园大道 8 号", county_code="340111",
                             industry_code="C3311", contact_name="赵丽", contact_phone="13955100012")
        enrollment.submit_unit(self.sess, employer2)
        self.summary.units = 2

    # --- 按项目参保 -----------------------------------------------------------------------------

    def projects(self) -> None:
        from portal.payments import service as payments
        from portal.payments.models import Bill
        from portal.projects import service as projects

        employer = self.actors["employer"]
        paid = projects.enroll_project(
            self.sess, employer, name="合肥市蜀山区井岗安置房二期工程", county_code="340104",
            permit_number="340104202606010101", contract_price=Decimal("38600000.00"), installation_cost=None,
            planned_start=self.day(90), planned_end=self.day(90) + timedelta(days=720))
        projects.submit_project(self.sess, employer, paid.id)
        for bill in self.sess.scalars(select(Bill).where(Bill.subject_type == "project", Bill.subject_id == paid.id)):
            # the platform's answers, as its 缴款码 and its 缴费结果通知 would bring them
            question = payments.question_for(self.sess, bill)
            reference = f"DEMO{bill.id:012d}"
            payments.apply_answer(self.sess, payments.PLATFORM_ACTOR, question,
                                  payments.PlatformAnswer(reference=reference))
            payments.record_callback(self.sess, message_id=f"demo-paid-{bill.id}", reference=reference,
                                     status="paid", amount=bill.amount, paid_at=self.moment(85), raw=b"{}")
        projects.start_project(self.sess, employer, paid.id, started_on=self.day(80))
        for name, birth, seq, trade in SITE_WORKERS:
            projects.add_worker(self.sess, employer, paid.id, projects.WorkerInput(
                name=name, id_number=id_number(birth, seq), phone=None, trade=trade, team="一号楼班组",
                entry_date=self.day(75)))
        projects.add_worker(self.sess, employer, paid.id, projects.WorkerInput(
            name="张伟", id_number="340104199003071235", phone="13955100001", trade="施工员", team="项目部",
            entry_date=self.day(75)))
        self.summary.roster = len(SITE_WORKERS) + 1

        waiting = projects.enroll_project(
            self.sess, employer, name="合肥市包河区滨湖学校扩建工程", county_code="340111", permit_number=None,
            contract_price=Decimal("12800000.00"), installation_cost=None,
            planned_start=self.today + timedelta(days=20), planned_end=self.today + timedelta(days=400))
        projects.submit_project(self.sess, employer, waiting.id)
        self.summary.projects = 2

    # --- 工伤认定 -------------------------------------------------------------------------------

    def _file(self, who: str, *, filed: int, event: int, worker: tuple[str, str] | None = None,
              employer: tuple[str, str, str] = (EMPLOYER_USCC, EMPLOYER_NAME, "340104"),
              died: bool = False, relation: str | None = None, submit: bool = True,
              place: str = "合肥市蜀山区井岗安置房二期工程 3 号楼",
              account: str = "在脚手架上搬运钢管时被滑落的钢管砸伤右手。",
              injury: str = "右手食指近节指骨骨折"):
        """A filing through the applicant's task list, submitted ``filed`` days ago."""
        from portal.recognition import service as recognition

        actor = self.actors[who]
        kind = {"worker": "worker", "relative": "relative"}.get(who, "employer")
        case = recognition.create_draft(self.sess, actor, applicant_kind=kind, relation=relation)
        today = self.day(filed)
        if worker is not None:
            recognition.save_worker(self.sess, actor, case.id, name=worker[0], id_number=worker[1], today=today)
        if "employer" not in (case.completed_steps or ""):
            recognition.save_employer(self.sess, actor, case.id, uscc=employer[0], name=employer[1],
                                      county_code=employer[2])
        recognition.save_event(self.sess, actor, case.id, event_kind="accident", event_date=self.day(event),
                               event_time="9:30" if not died else "14:10", event_place=place,
                               event_account=account, injury=injury, died=died,
                               death_date=self.day(event) if died else None, today=today, calendar=self.calendar)
        if not submit:
            return case
        for n, rule in enumerate(recognition.required_rules(case)):
            pdf = n % 2 == 1
            recognition.add_material(self.sess, actor, case.id, kind=rule.kind,
                                     data=self.pdf if pdf else self.png,
                                     filename=f"{rule.kind}.{'pdf' if pdf else 'png'}", files_dir=self.files_dir)
        return recognition.submit(self.sess, actor, case.id, today=today, now=self.moment(filed),
                                  files_dir=self.files_dir, case_url=f"{self.portal_url}/recognition/cases/{case.id}",
                                  calendar=self.calendar)

    def _accept(self, case, days_ago: int, *, simplified: bool = False):
        from portal.recognition import service as recognition

        return recognition.accept_case(self.sess, self.actors["officer"], case.id, simplified=simplified,
                                       simplified_reason="事实清楚、权利义务明确" if simplified else None,
                                       files_dir=self.files_dir, on=self.day(days_ago))

    def _decide(self, case, days_ago: int):
        from portal.recognition import service as recognition

        return recognition.decide_case(
            self.sess, self.actors["officer"], case.id, outcome="recognised", ground_code="r14_1",
            reasoning="经调查核实，该职工在工作时间和工作场所内，因工作原因受到事故伤害。",
            files_dir=self.files_dir, on=self.day(days_ago))

    def _site_worker(self, index: int) -> tuple[str, str]:
        name, birth, seq, _trade = SITE_WORKERS[index]
        return name, id_number(birth, seq)

    def cases(self) -> None:
        from portal.recognition import service as recognition

        officer, sess, count = self.actors["officer"], self.sess, self.summary.cases
        employer2 = (EMPLOYER2_USCC, EMPLOYER2_NAME, "340111")

        # 已送达: 张伟's own application, recognised and served; his page shows what comes next
        served = self._file("worker", filed=105, event=110)
        self._accept(served, 102)
        self._decide(served, 60)
        recognition.serve_case(sess, officer, served.id, on=self.day(55))
        count["已送达"] = 1

        # 草稿: the employer has started one and not finished it (我的工伤认定 → 继续填写)
        self._file("employer", filed=0, event=2, worker=self._site_worker(0), submit=False)
        count["草稿"] = 1

        # 待审查材料: received 20 days ago (the 15-day review is overdue) and 13 days ago (near)
        self._file("employer", filed=20, event=25, worker=self._site_worker(1),
                   account="在木工棚加工模板时被电锯划伤左手。", injury="左手掌软组织裂伤，肌腱部分断裂")
        self._file("employer", filed=13, event=16, worker=self._site_worker(2),
                   account="拆除外架时踏空，从二层架体坠落。", injury="右踝关节骨折")
        count["待审查材料"] = 2

        # 待补正: a widow files for her husband, who died at work; the office asked for more
        deceased = (DECEASED_WORKER[0], id_number(DECEASED_WORKER[1], DECEASED_WORKER[2]))
        widow = self._file("relative", filed=30, event=40, worker=deceased, employer=employer2, died=True,
                           relation="spouse", place="合肥明远机械制造有限公司 二号车间",
                           account="检修冲压设备时被突然启动的设备挤压，经抢救无效死亡。",
                           injury="胸腹部挤压伤，失血性休克")
        recognition.request_supplement(sess, officer, widow.id, items=[
            recognition.SupplementRequest(kind=recognition.OTHER_ITEM,
                                          description="请补充提交公安机关或医疗机构出具的死亡证明原件扫描件"),
        ], files_dir=self.files_dir, on=self.day(26))
        count["待补正"] = 1

        # 已受理: overdue (decision due 10 days ago) and pressed by the employer; near; and one
        # that went through a supplement first
        overdue = self._file("employer", filed=74, event=80, worker=self._site_worker(3),
                             account="浇筑混凝土时振捣棒电缆漏电，被电击倒地。", injury="电击伤，右手二度烧伤")
        self._accept(overdue, 70)
        recognition.add_note(sess, officer, overdue.id, kind="note",
                             text="已到现场调查，询问班组长及两名工友，事故经过与申请所述一致。",
                             now=self.moment(60))
        recognition.urge(sess, self.actors["employer"], overdue.id,
                         text="认定期限已过，请尽快作出认定决定。", today=self.today, calendar=self.calendar)
        near = self._file("employer", filed=60, event=64, worker=self._site_worker(4),
                          account="焊接作业时焊渣溅入右眼。", injury="右眼角膜异物伤")
        self._accept(near, 57)
        supplied = self._file("employer", filed=20, event=23, worker=self._site_worker(5),
                              account="塔吊作业结束后下塔时从爬梯滑落。", injury="腰椎压缩性骨折")
        recognition.request_supplement(sess, officer, supplied.id, items=[
            recognition.SupplementRequest(kind=recognition.OTHER_ITEM, description="请补充提交现场目击证人证言"),
        ], files_dir=self.files_dir, on=self.day(18))
        employer = self.actors["employer"]
        for item in recognition.supplement_items(sess, supplied):
            recognition.upload_supplement(sess, employer, supplied.id, item.id, data=self.pdf,
                                          filename="证人证言.pdf", files_dir=self.files_dir)
        recognition.supply(sess, employer, supplied.id, today=self.day(15), now=self.moment(15))
        self._accept(supplied, 10)
        count["已受理"] = 3

        # 中止: waiting for the labour arbitration on whether there was a labour relation
        factory = FACTORY_WORKERS[0]
        suspended = self._file("employer2", filed=40, event=44, worker=(factory[0], id_number(factory[1], factory[2])),
                               employer=employer2, place="合肥明远机械制造有限公司 一号车间",
                               account="操作车床时衣袖被卷入，右前臂受伤。", injury="右前臂尺骨骨折")
        self._accept(suspended, 37)
        recognition.suspend_case(sess, officer, suspended.id,
                                 reason="双方对是否存在劳动关系有争议，已申请劳动仲裁，待仲裁裁决生效后恢复认定。",
                                 files_dir=self.files_dir, on=self.day(20))
        count["中止"] = 1

        # 待送达: decided three days ago, not yet delivered
        decided = self._file("employer", filed=50, event=53, worker=self._site_worker(0),
                             account="搬运钢筋时扭伤腰部。", injury="腰椎间盘突出（急性）")
        self._accept(decided, 47)
        self._decide(decided, 3)
        count["待送达"] = 1

        # 不予受理: the applicant is not the employer of the injured person
        factory = FACTORY_WORKERS[1]
        refused = self._file("employer2", filed=35, event=38, worker=(factory[0], id_number(factory[1], factory[2])),
                             employer=employer2, place="合肥市包河区某物流园", account="在外协单位卸货时被货物砸伤左脚。",
                             injury="左足第一跖骨骨折")
        recognition.refuse_case(sess, officer, refused.id,
                                reasons="经核实，受伤害人员与申请单位之间不存在劳动关系，申请人不是该职工的用人单位。",
                                files_dir=self.files_dir, on=self.day(32))
        count["不予受理"] = 1

    def load(self) -> SampleSummary:
        self.units()
        self.projects()
        self.cases()
        return self.summary


def load_sample_data(sess: Session, *, files_dir: Path, portal_url: str,
                     today: date | None = None) -> SampleSummary | None:
    """Make the sample data in ``sess`` (the caller commits), unless the database already holds
    business data: then nothing is done and None is returned. ``today`` defaults to Beijing's."""
    from portal.localtime import local_today

    if has_business_data(sess):
        return None
    files_dir.mkdir(parents=True, exist_ok=True)
    summary = _Loader(sess, files_dir=files_dir, portal_url=portal_url, today=today or local_today()).load()
    sess.flush()
    return summary
