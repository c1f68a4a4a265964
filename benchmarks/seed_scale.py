"""Bulk seeding for ``./dev.sh bench queues`` (issue 14): many staff-visible rows, fast.

Services are bypassed for speed (SQLAlchemy Core ``insert()`` of lists of dicts, executemany in
batches), but every row is one the real models and pages accept:

* personal fields go through the models' own column types, so they are sealed with the app's
  keyring (``EncryptedText``) and their blind indexes come from ``accounts.service.lookup``;
* a recognition case's stored due dates (``office_due_on``, ``applicant_due_on`` …) are computed
  by ``recognition.service.clock.refresh_due_dates`` on a transient case, once per distinct
  (status, start dates, pause) combination, with the database's working-day calendar;
* audit rows carry their content MAC and are linked into the keyed hash chain (seq, prev_hash,
  hash) with ``audit.service.content_mac``/``link_hash``, and the chain head is moved forward, so
  the trail still verifies and no request pays for sealing them.

Data is keyed by a per-city index ``i`` (organisation ``BN<city><i>``): index ``i`` of a city is
one employer (organisation, its legal-person account, its enrolled unit), one worker (person),
one construction project with its bill, one inbox message, one open recognition case (every third
index one closed case more) and ``audit_per_index`` audit rows. :func:`seed_to` adds the indexes a
city is missing, so 1x → 10x → 100x only adds (no re-seeding).

The demo employer's organisation (``config/sandbox_accounts.toml``, login ``employer``) receives
the inbox messages of the first fully seeded city: its inbox grows with the scale.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session
from stdnum.cn import ric

from portal.accounts.models import Account, AccountKind, Organisation, Person
from portal.accounts.service.lookup import id_number_hash, phone_hash
from portal.audit import service as audit_service
from portal.audit.keys import installed as audit_settings
from portal.audit.models import AuditChainHead, AuditEvent
from portal.clocks import service as clocks
from portal.db import utcnow
from portal.enrollment.models import (
    EnrolledUnit,
    EnrollmentEvent,
    UnitMember,
    UnitStatus,
)
from portal.inbox.models import InboxKind, InboxMessage
from portal.localtime import local_today
from portal.payments.models import Bill, BillStatus
from portal.projects.models import Project, ProjectStatus, RosterEntry
from portal.recognition.models import (
    ApplicantKind,
    CaseEvent,
    CasePause,
    CaseStatus,
    EventKind,
    Outcome,
    PauseKind,
    RecognitionCase,
    Urge,
)
from portal.recognition.service.clock import refresh_due_dates
from portal.regions import province

BATCH = 2000
#: the cities seeded in full: the measured staff's (合肥) and one other (芜湖)
FULL_CITIES = ("340100", "340200")
DEMO_EMPLOYER_USCC = "91340100MA2N0A1B5E"
DEMO_EMPLOYER_NAME = "安徽皖建建设工程有限公司"
INDUSTRY, RISK_CLASS = "E4710", 3

TABLES = (Person, Organisation, Account, EnrolledUnit, EnrollmentEvent, UnitMember, Project, RosterEntry,
          Bill, RecognitionCase, CaseEvent, CasePause, Urge, InboxMessage, AuditEvent)


@dataclass
class SeedReport:
    """Rows added per table by one :func:`seed_to` call, and how long it took."""

    added: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    per_city: dict[str, int] = field(default_factory=dict)  #: indexes per city after the call

    def add(self, table: str, n: int) -> None:
        self.added[table] = self.added.get(table, 0) + n


def city_targets(k: int, *, base: int = 100, other_share: float = 1.0,
                 full_cities: tuple[str, ...] = FULL_CITIES) -> dict[str, int]:
    """Indexes (≈ open cases, units, projects…) wanted per city at scale ``k``: ``base·k`` in the
    full cities, ``other_share`` of that in the province's other cities."""
    return {c.code: base * k if c.code in full_cities else max(1, round(base * k * other_share))
            for c in province().cities}


#: rows a city adds per turn while the cities take turns (see :func:`seed_to`)
CHUNK = 500


def seed_to(engine: sa.Engine, targets: dict[str, int], *, audit_per_index: int = 10,
            other_audit_per_index: int = 1, full_cities: tuple[str, ...] = FULL_CITIES,
            today: date | None = None) -> SeedReport:
    """Add rows until every city of ``targets`` has that many indexes; the app (keyrings,
    audit keys) must have been created first."""
    started = time.perf_counter()
    today = today or local_today()
    report = SeedReport()
    calendar = _calendar(engine)
    with engine.connect() as conn:
        ids = _IdAllocator(conn)
        conn.rollback()
        demo_org = _demo_employer(conn, ids)
    seeder = _Seeder(engine, ids, calendar, today, report, demo_org)
    have = {city_code: seeder.count(city_code) for city_code in targets}
    # Cities take turns, CHUNK rows each, so ids (and "newest first" orders) mix the cities as
    # real use does; seeding city after city would put one city's rows at the end of each table.
    while any(have[c] < want for c, want in targets.items()):
        for city_code, want in targets.items():
            if have[city_code] >= want:
                continue
            upto = min(want, have[city_code] + CHUNK)
            per_audit = audit_per_index if city_code in full_cities else other_audit_per_index
            inbox_org = demo_org if city_code == full_cities[0] else None
            seeder.seed_city(city_code, have[city_code], upto, audit_per_index=per_audit, inbox_org=inbox_org)
            have[city_code] = upto
    for city_code, want in targets.items():
        report.per_city[city_code] = max(have[city_code], want)
    ids.fix_sequences(engine)
    report.seconds = time.perf_counter() - started
    return report


# --- helpers ----------------------------------------------------------------------------------


def _calendar(engine: sa.Engine) -> clocks.WorkCalendar:
    with Session(engine) as sess:
        return clocks.work_calendar(sess)


class _IdAllocator:
    """Explicit primary keys (children reference parents without a round trip); PostgreSQL's
    sequences are moved past them afterwards."""

    def __init__(self, conn: sa.Connection) -> None:
        self.next = {m.__table__.name: (conn.execute(sa.select(sa.func.max(m.__table__.c.id))).scalar() or 0) + 1
                     for m in TABLES}

    def take(self, table: str, n: int) -> range:
        first = self.next[table]
        self.next[table] = first + n
        return range(first, first + n)

    def fix_sequences(self, engine: sa.Engine) -> None:
        if engine.dialect.name != "postgresql":
            return
        with engine.begin() as conn:
            for m in TABLES:
                name = m.__table__.name
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                     f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {name}), 1))"))


def _demo_employer(conn: sa.Connection, ids: _IdAllocator) -> int:
    """The demo employer's organisation (sign-in finds it by its USCC), made when missing."""
    found = conn.execute(sa.select(Organisation.id).where(Organisation.uscc == DEMO_EMPLOYER_USCC)).scalar()
    if found is not None:
        return found
    org_id = ids.take("organisation", 1)[0]
    conn.execute(sa.insert(Organisation), [{"id": org_id, "uscc": DEMO_EMPLOYER_USCC,
                                            "name": DEMO_EMPLOYER_NAME, "created_at": utcnow()}])
    conn.commit()
    return org_id


def _id_number(city_code: str, i: int) -> str:
    born = date(1965, 1, 1) + timedelta(days=i // 900)
    body = f"{city_code[:4]}02{born:%Y%m%d}{i % 900 + 100:03d}"
    return body + ric.calc_check_digit(body + "0")


def _phone(city_code: str, i: int) -> str:
    return f"13{city_code[2:4]}{i:07d}"[:11]


def _insert(engine: sa.Engine, model, rows: list[dict], report: SeedReport) -> None:
    if not rows:
        return
    for start in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.execute(sa.insert(model), rows[start:start + BATCH])
    report.add(model.__tablename__, len(rows))


class _Seeder:
    def __init__(self, engine, ids, calendar, today, report, demo_org) -> None:
        self.engine, self.ids, self.calendar, self.today = engine, ids, calendar, today
        self.report, self.demo_org = report, demo_org
        self._due_cache: dict[tuple, dict] = {}

    def count(self, city_code: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(Organisation)
                                .where(Organisation.uscc.startswith(f"BN{city_code}"))).scalar_one()

    # -- one city -------------------------------------------------------------------------------

    def seed_city(self, city_code: str, have: int, want: int, *, audit_per_index: int,
                  inbox_org: int | None) -> None:
        n = want - have
        city = province().city(city_code)
        short = city.short_name if city else city_code
        county = city_code[:4] + "02"
        now = utcnow()
        idx = range(have, want)
        person_ids = self.ids.take("person", n)
        org_ids = self.ids.take("organisation", n)
        account_ids = self.ids.take("account", n)
        unit_ids = self.ids.take("enrolled_unit", n)
        project_ids = self.ids.take("project", n)

        people, orgs, accounts, units, unit_events, members = [], [], [], [], [], []
        projects, roster, bills = [], [], []
        for j, i in enumerate(idx):
            rng = random.Random(f"{city_code}-{i}")
            pid, oid, aid, uid, prj = person_ids[j], org_ids[j], account_ids[j], unit_ids[j], project_ids[j]
            number, phone = _id_number(city_code, i), _phone(city_code, i)
            name = f"测{short}{i}"
            people.append({"id": pid, "name": name, "id_number": number, "id_number_hash": id_number_hash(number),
                           "confirmed": True, "phone": phone, "phone_hash": phone_hash(phone),
                           "created_at": now, "updated_at": now})
            org_name = f"{short}第{i}号测试建设有限公司"
            orgs.append({"id": oid, "uscc": f"BN{city_code}{i:010d}", "name": org_name, "created_at": now})
            accounts.append({"id": aid, "subject": f"bench-lp-{city_code}-{i}", "kind": AccountKind.ORGANISATION,
                             "display_name": f"经办人{i}", "organisation_id": oid, "created_at": now})
            # 参保登记: mostly approved, a quarter waiting for review
            roll = rng.random()
            status = (UnitStatus.APPROVED if roll < 0.6 else UnitStatus.SUBMITTED if roll < 0.85
                      else UnitStatus.RETURNED if roll < 0.95 else UnitStatus.DRAFT)
            sent = now - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 600))
            units.append({"id": uid, "organisation_id": oid, "uscc": f"BN{city_code}{i:010d}", "name": org_name,
                          "address": f"{short}测试路{i}号", "county_code": county, "city_code": city_code,
                          "industry_code": INDUSTRY, "risk_class": RISK_CLASS, "rate_band": Decimal("1.00"),
                          "contact_name": f"联系人{i}", "contact_phone": phone, "contact_phone_hash": phone_hash(phone),
                          "status": status,
                          "return_reasons": "请补充营业执照副本" if status is UnitStatus.RETURNED else None,
                          "effective_date": (sent + timedelta(days=3)).date() if status is UnitStatus.APPROVED else None,
                          "submitted_at": None if status is UnitStatus.DRAFT else sent,
                          "decided_at": sent + timedelta(days=3) if status in (UnitStatus.APPROVED, UnitStatus.RETURNED)
                          else None, "created_at": sent, "updated_at": sent})
            if status is not UnitStatus.DRAFT:
                unit_events.append({"unit_id": uid, "at": sent, "action": "submit", "from_status": "draft",
                                    "to_status": "submitted", "by_role": "employer", "by_office": org_name})
            if status is UnitStatus.APPROVED:
                members.append({"unit_id": uid, "person_id": pid, "wage_base": Decimal(rng.randint(4000, 12000)),
                                "start_date": (sent + timedelta(days=3)).date(), "created_at": now, "updated_at": now})
            # 按项目参保 and its bill
            roll = rng.random()
            pstatus = (ProjectStatus.DRAFT if roll < 0.05 else ProjectStatus.AWAITING_PAYMENT if roll < 0.25
                       else ProjectStatus.COVERED if roll < 0.45 else ProjectStatus.STARTED if roll < 0.85
                       else ProjectStatus.COMPLETED)
            price = Decimal(rng.randint(500, 50_000)) * 1000
            premium = (price * Decimal("0.0012")).quantize(Decimal("0.01"))
            start = self.today - timedelta(days=rng.randint(-60, 300))
            paid = pstatus in (ProjectStatus.COVERED, ProjectStatus.STARTED, ProjectStatus.COMPLETED)
            projects.append({"id": prj, "code": f"XMB{city_code}{i:08d}", "organisation_id": oid,
                             "name": f"{short}测试工程{i}号", "county_code": county, "city_code": city_code,
                             "contract_price": price, "planned_start": start, "planned_end": start + timedelta(days=365),
                             "status": pstatus, "premium_billed": Decimal("0.00") if pstatus is ProjectStatus.DRAFT
                             else premium, "cover_start": sent if paid else None,
                             "started_on": start if pstatus in (ProjectStatus.STARTED, ProjectStatus.COMPLETED) else None,
                             "completed_on": self.today if pstatus is ProjectStatus.COMPLETED else None,
                             "cover_end": now if pstatus is ProjectStatus.COMPLETED else None,
                             "created_at": sent, "updated_at": sent})
            if pstatus is ProjectStatus.STARTED:
                roster.append({"project_id": prj, "person_id": pid, "name": name, "phone": phone,
                               "phone_hash": phone_hash(phone), "trade": "钢筋工", "declared_entry_date": start,
                               "cover_from": sent, "created_at": now})
            if pstatus is not ProjectStatus.DRAFT:
                bills.append({"number": f"GB{city_code}{i:08d}", "subject_type": "project", "subject_id": prj,
                              "organisation_id": oid, "city_code": city_code, "purpose": "项目参保保费",
                              "amount": premium, "status": BillStatus.PAID if paid else BillStatus.ISSUED,
                              "payment_reference": f"JK{city_code}{i:010d}",
                              "paid_at": sent if paid else None, "paid_amount": premium if paid else None,
                              "created_at": sent, "updated_at": sent})
        _insert(self.engine, Person, people, self.report)
        _insert(self.engine, Organisation, orgs, self.report)
        _insert(self.engine, Account, accounts, self.report)
        _insert(self.engine, EnrolledUnit, units, self.report)
        _insert(self.engine, EnrollmentEvent, unit_events, self.report)
        _insert(self.engine, UnitMember, members, self.report)
        _insert(self.engine, Project, projects, self.report)
        _insert(self.engine, RosterEntry, roster, self.report)
        _insert(self.engine, Bill, bills, self.report)
        self._cases(city_code, county, idx, person_ids, org_ids, account_ids, unit_ids)
        self._inbox(city_code, idx, org_ids, inbox_org)
        self._audit(city_code, idx, org_ids, account_ids, audit_per_index)

    # -- recognition cases -------------------------------------------------------------------------

    def _cases(self, city_code, county, idx, person_ids, org_ids, account_ids, unit_ids) -> None:
        plans = []  # (index position, status, dates)
        for j, i in enumerate(idx):
            rng = random.Random(f"case-{city_code}-{i}")
            plans.append((j, i, self._open_plan(rng)))
            if i % 3 == 0:
                plans.append((j, i, self._closed_plan(rng)))
        case_ids = self.ids.take("recognition_case", len(plans))
        cases, events, pauses, urges = [], [], [], []
        now = utcnow()
        for case_id, (j, i, plan) in zip(case_ids, plans):
            status = plan["status"]
            received = plan["received_on"]
            row = {"id": case_id, "reference": f"RD-{city_code}-{received.year}-{case_id:06d}", "status": status,
                   "applicant_kind": ApplicantKind.EMPLOYER, "applicant_account_id": account_ids[j],
                   "applicant_organisation_id": org_ids[j], "worker_person_id": person_ids[j],
                   "employer_organisation_id": org_ids[j], "unit_id": unit_ids[j], "county_code": county,
                   "city_code": city_code, "event_kind": EventKind.ACCIDENT,
                   "event_date": received - timedelta(days=10), "event_time": "09:30",
                   "event_place": "施工现场", "event_account": "搬运钢材时被砸伤", "injury": "左手第二掌骨骨折",
                   "completed_steps": "worker,employer,event,materials", "late": False,
                   "submitted_at": datetime.combine(received, datetime.min.time(), timezone.utc) + timedelta(hours=2),
                   "received_on": received, "supplement_requested": plan.get("supplement_requested", False),
                   "supplement_received_on": plan.get("supplement_received_on"),
                   "accepted_on": plan.get("accepted_on"), "simplified": plan.get("simplified", False),
                   "acceptance_number": f"{city_code}受字{case_id}号" if plan.get("accepted_on") else None,
                   "decided_on": plan.get("decided_on"), "served_on": plan.get("served_on"),
                   "closed_on": plan.get("closed_on"), "created_at": now, "updated_at": now}
            decided = plan.get("decided_on") is not None
            row.update(outcome=Outcome.RECOGNISED if decided else None, ground_code=None,
                       decision_number=f"{city_code}认字{case_id}号" if decided else None,
                       decision_reasoning="事实清楚，符合条例第十四条第（一）项" if decided else None,
                       refusal_reasons="不属于本部门管辖" if status is CaseStatus.NOT_ACCEPTED else None)
            row.update(self._due_dates(plan))
            cases.append(row)
            events.append({"case_id": case_id, "at": row["submitted_at"], "action": "submit", "from_status": "draft",
                           "to_status": "submitted", "by_role": "employer", "by_office": "申请人", "note": None})
            if plan.get("pause_from"):
                pauses.append({"case_id": case_id, "kind": plan["pause_kind"], "started_on": plan["pause_from"],
                               "ended_on": None, "reason": "劳动关系争议待仲裁裁决"
                               if plan["pause_kind"] is PauseKind.SUSPENSION else "待补正材料"})
            if not status.is_closed and i % 20 == 0:  # 催办 on one open case in twenty
                urges.append({"case_id": case_id, "by_account_id": account_ids[j], "at": now,
                              "text": "请尽快办理"})
        _insert(self.engine, RecognitionCase, cases, self.report)
        _insert(self.engine, CaseEvent, events, self.report)
        _insert(self.engine, CasePause, pauses, self.report)
        _insert(self.engine, Urge, urges, self.report)

    def _open_plan(self, rng: random.Random) -> dict:
        """An open case: submitted (some after a supplement), awaiting supplement, accepted (some
        simplified), suspended or decided, with start dates spread so that some are overdue and
        some due this week."""
        t = self.today
        roll = rng.random()
        if roll < 0.22:
            received = t - timedelta(days=rng.randint(0, 30))
            plan = {"status": CaseStatus.SUBMITTED, "received_on": received}
            if rng.random() < 0.2:
                plan.update(supplement_requested=True,
                            supplement_received_on=min(t, received + timedelta(days=rng.randint(1, 10))))
            return plan
        if roll < 0.30:
            received = t - timedelta(days=rng.randint(5, 30))
            return {"status": CaseStatus.AWAITING_SUPPLEMENT, "received_on": received, "supplement_requested": True,
                    "pause_kind": PauseKind.SUPPLEMENT, "pause_from": received + timedelta(days=3)}
        if roll < 0.78:
            accepted = t - timedelta(days=rng.randint(0, 100))
            return {"status": CaseStatus.ACCEPTED, "received_on": accepted - timedelta(days=rng.randint(1, 14)),
                    "accepted_on": accepted, "simplified": rng.random() < 0.1}
        if roll < 0.86:
            accepted = t - timedelta(days=rng.randint(20, 200))
            return {"status": CaseStatus.SUSPENDED, "received_on": accepted - timedelta(days=7),
                    "accepted_on": accepted, "pause_kind": PauseKind.SUSPENSION,
                    "pause_from": accepted + timedelta(days=rng.randint(5, 19))}
        decided = t - timedelta(days=rng.randint(0, 40))
        accepted = decided - timedelta(days=rng.randint(10, 50))
        return {"status": CaseStatus.DECIDED, "received_on": accepted - timedelta(days=5), "accepted_on": accepted,
                "decided_on": decided}

    def _closed_plan(self, rng: random.Random) -> dict:
        t = self.today
        roll = rng.random()
        if roll < 0.8:
            served = t - timedelta(days=rng.randint(0, 300))
            decided = served - timedelta(days=rng.randint(1, 15))
            accepted = decided - timedelta(days=rng.randint(10, 50))
            return {"status": CaseStatus.SERVED, "received_on": accepted - timedelta(days=5), "accepted_on": accepted,
                    "decided_on": decided, "served_on": served, "closed_on": served}
        closed = t - timedelta(days=rng.randint(0, 300))
        if roll < 0.9:
            return {"status": CaseStatus.NOT_ACCEPTED, "received_on": closed - timedelta(days=5), "closed_on": closed}
        return {"status": CaseStatus.WITHDRAWN, "received_on": closed - timedelta(days=5), "closed_on": closed}

    def _due_dates(self, plan: dict) -> dict:
        """The DueDates columns as ``refresh_due_dates`` stores them, computed on a transient case
        once per distinct plan."""
        key = tuple(sorted((k, v) for k, v in plan.items()))
        found = self._due_cache.get(key)
        if found is None:
            case = RecognitionCase(status=plan["status"], applicant_kind=ApplicantKind.EMPLOYER,
                                   received_on=plan["received_on"], event_date=plan["received_on"] - timedelta(days=10),
                                   supplement_received_on=plan.get("supplement_received_on"),
                                   accepted_on=plan.get("accepted_on"), simplified=plan.get("simplified", False),
                                   decided_on=plan.get("decided_on"), served_on=plan.get("served_on"),
                                   closed_on=plan.get("closed_on"), office_due_provisional=False,
                                   applicant_due_provisional=False)
            if plan.get("pause_from"):
                case.pauses = [CasePause(kind=plan["pause_kind"], started_on=plan["pause_from"], ended_on=None,
                                         reason="")]
            refresh_due_dates(case, self.calendar)
            found = {name: getattr(case, name) for name in (
                "office_due_on", "office_due_provisional", "office_due_rule", "office_due_was", "applicant_due_on",
                "applicant_due_provisional", "applicant_due_rule", "applicant_due_from")}
            found["office_due_provisional"] = bool(found["office_due_provisional"])
            found["applicant_due_provisional"] = bool(found["applicant_due_provisional"])
            self._due_cache[key] = found
        return found

    # -- inbox and audit -----------------------------------------------------------------------------

    def _inbox(self, city_code, idx, org_ids, inbox_org) -> None:
        now = utcnow()
        rows = []
        for j, i in enumerate(idx):
            rng = random.Random(f"inbox-{city_code}-{i}")
            delivered = now - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1000))
            action = rng.random() < 0.1
            rows.append({"recipient_organisation_id": inbox_org or org_ids[j], "kind": InboxKind.NOTICE
                         if not action else InboxKind.REQUEST,
                         "subject": f"工伤认定申请受理通知（第{i}号）", "body": "您单位提交的工伤认定申请已受理。",
                         "link": "/home/", "link_label": "查看", "case_reference": f"RD-{city_code}-BENCH-{i:06d}",
                         "action_required": action, "delivered_at": delivered,
                         "read_at": delivered + timedelta(hours=3) if rng.random() < 0.7 else None})
        _insert(self.engine, InboxMessage, rows, self.report)

    def _audit(self, city_code, idx, org_ids, account_ids, per_index: int) -> None:
        """``per_index`` audit rows per index, MACed and chained like ``audit.service`` does."""
        if per_index <= 0:
            return
        keys = audit_settings().keys
        actions = ("login.success", "recognition.case_submitted", "enrollment.unit_submitted",
                   "project.submit", "person.read_personal_data", "payments.paid")
        base = utcnow() - timedelta(days=30)
        rows = []
        for j, i in enumerate(idx):
            for n in range(per_index):
                at = base + timedelta(seconds=(i * per_index + n) % (30 * 86400))
                # the fields ``content_mac`` reads, without the cost of an ORM instance
                event = SimpleNamespace(at=at, actor_account_id=account_ids[j], actor_label=f"经办人{i}",
                                        role="employer", city_code=city_code, action=actions[n % len(actions)],
                                        object_type="organisation", object_id=str(org_ids[j]),
                                        client_addr="127.0.0.1", request_id=None, detail={"bench": True},
                                        key_id=keys.active)
                event.row_mac = audit_service.content_mac(keys, event)  # type: ignore[arg-type]
                rows.append(event)
        # seal what the app left unsealed (PostgreSQL seals after commit), then chain ours on
        audit_service.seal(self.engine, wait=True)
        with self.engine.begin() as conn:
            head_query = sa.select(AuditChainHead.seq, AuditChainHead.hash).where(
                AuditChainHead.id == audit_service.HEAD_ID)
            if conn.dialect.name == "postgresql":
                head_query = head_query.with_for_update()
            seq, prev = conn.execute(head_query).one()
            first_id = self.ids.take("audit_event", len(rows))[0]
            dicts = []
            for n, event in enumerate(rows):
                seq += 1
                digest = audit_service.link_hash(keys, event.key_id, event.row_mac, prev, seq)
                dicts.append({"id": first_id + n, "seq": seq, "at": event.at,
                              "actor_account_id": event.actor_account_id, "actor_label": event.actor_label,
                              "role": event.role, "city_code": event.city_code, "action": event.action,
                              "object_type": event.object_type, "object_id": event.object_id,
                              "client_addr": event.client_addr, "request_id": event.request_id,
                              "detail": event.detail, "key_id": event.key_id, "row_mac": event.row_mac,
                              "prev_hash": prev, "hash": digest})
                prev = digest
            for start in range(0, len(dicts), BATCH):
                conn.execute(sa.insert(AuditEvent), dicts[start:start + BATCH])
            conn.execute(sa.update(AuditChainHead).where(AuditChainHead.id == audit_service.HEAD_ID)
                         .values(seq=seq, hash=prev))
        self.report.add("audit_event", len(dicts))
