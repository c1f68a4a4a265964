"""Role home pages (我的首页 / 单位首页 / 工作台): who is signed in, and what each role can do.

Everything shown comes from the signed-in actor; no database reads. Services of later releases
are listed as plain text, never as links to pages that do not exist yet.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from portal.auth.access import requires, signed_in
from portal.auth.roles import CITY_STAFF_ROLES, Role
from portal.regions import city_name

bp = Blueprint("home", __name__, url_prefix="/home")

#: endpoint of each role's home page
HOME_ENDPOINTS = {
    Role.WORKER: "home.worker",
    Role.EMPLOYER: "home.employer",
    Role.CLERK: "home.staff",
    Role.RECOGNITION_OFFICER: "home.staff",
    Role.APPRAISAL_OFFICE: "home.staff",
    Role.FINANCE: "home.staff",
    Role.PROVINCIAL: "home.province",
}

#: services that later releases bring, per role (shown as text)
UPCOMING_SERVICES = {
    Role.WORKER: ("劳动能力鉴定申请", "待遇发放记录查询"),
    Role.EMPLOYER: ("劳动能力鉴定申请", "工伤保险待遇申领"),
    Role.CLERK: ("工伤保险待遇核定",),
    Role.RECOGNITION_OFFICER: ("工伤认定行政复议、诉讼结果登记",),
    Role.APPRAISAL_OFFICE: ("劳动能力鉴定受理与专家抽取",),
    Role.FINANCE: ("月度支出用款计划与基金拨付",),
    Role.PROVINCIAL: ("全省统计与各市考核数据",),
}


def home_endpoint(role: Role) -> str:
    return HOME_ENDPOINTS[role]


@bp.get("/")
@signed_in
def index():
    """Send each role to its own home page."""
    return redirect(url_for(home_endpoint(g.actor.role)), 303)


@bp.get("/worker")
@requires(Role.WORKER)
def worker():
    return render_template("home/worker.html", upcoming=UPCOMING_SERVICES[Role.WORKER])


@bp.get("/employer")
@requires(Role.EMPLOYER)
def employer():
    return render_template("home/employer.html", upcoming=UPCOMING_SERVICES[Role.EMPLOYER])


@bp.get("/staff")
@requires(*sorted(CITY_STAFF_ROLES))
def staff():
    return render_template("home/staff.html", upcoming=UPCOMING_SERVICES[g.actor.role],
                           city=city_name(g.actor.city_code))


@bp.get("/province")
@requires(Role.PROVINCIAL)
def province():
    return render_template("home/province.html", upcoming=UPCOMING_SERVICES[Role.PROVINCIAL])
