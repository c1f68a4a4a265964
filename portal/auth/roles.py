"""Roles and scope (角色与数据范围): decided here, applied to every route.

A person signs in as exactly one role per session. City staff are scoped to one prefecture city by
its division code; provincial staff see every city. Workers see only their own person; employers
only their own organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.choices import LabelledEnum


class Role(LabelledEnum):
    WORKER = "worker", "个人"  #: 职工及其近亲属
    EMPLOYER = "employer", "用人单位"
    CLERK = "clerk", "经办人员"  #: city agency clerk
    RECOGNITION_OFFICER = "recognition_officer", "工伤认定人员"  #: HRSS recognition officer
    APPRAISAL_OFFICE = "appraisal_office", "劳动能力鉴定办公室"  #: appraisal committee office
    FINANCE = "finance", "财务人员"
    PROVINCIAL = "provincial", "省级管理人员"  #: provincial staff, all cities

    @property
    def is_staff(self) -> bool:
        return self in STAFF_ROLES

    @property
    def is_city_staff(self) -> bool:
        return self in CITY_STAFF_ROLES


CITY_STAFF_ROLES = frozenset({Role.CLERK, Role.RECOGNITION_OFFICER, Role.APPRAISAL_OFFICE, Role.FINANCE})
STAFF_ROLES = CITY_STAFF_ROLES | {Role.PROVINCIAL}
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Actor:
    """Who is acting, as services and the audit trail see it. No personal data inside."""

    role: Role | None  #: None = not signed in
    account_id: int | None = None
    display_name: str = "匿名访客"
    city_code: str | None = None  #: staff city; None for provincial staff and non-staff
    person_id: int | None = None
    organisation_id: int | None = None
    office: str | None = None  #: staff office name, shown to applicants
    client_addr: str | None = None
    request_id: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None

    def can_see_city(self, city_code: str | None) -> bool:
        """Staff scope: provincial staff see all cities, city staff only their own."""
        if self.role is Role.PROVINCIAL:
            return True
        return self.role in CITY_STAFF_ROLES and city_code is not None and city_code == self.city_code

    def owns_person(self, person_id: int | None) -> bool:
        return self.role is Role.WORKER and person_id is not None and person_id == self.person_id

    def owns_organisation(self, organisation_id: int | None) -> bool:
        return (self.role is Role.EMPLOYER and organisation_id is not None
                and organisation_id == self.organisation_id)


def anonymous(client_addr: str | None = None, request_id: str | None = None) -> Actor:
    return Actor(role=None, client_addr=client_addr, request_id=request_id)
