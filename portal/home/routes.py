"""Role home pages (我的首页 / 单位首页 / 工作台): who is signed in, and what each role can do.

Everything shown comes from the signed-in actor and the service's tables; no database reads.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from portal.auth.access import requires, signed_in
from portal.auth.roles import CITY_STAFF_ROLES, Role
from portal.home import service
from portal.regions import city_name

bp = Blueprint("home", __name__, url_prefix="/home")


def _page(template: str, role: Role, **context) -> str:
    return render_template(template, offer=service.offer(role), upcoming=service.upcoming(role), **context)


@bp.get("/")
@signed_in
def index():
    """Send each role to its own home page."""
    return redirect(url_for(service.home_endpoint(g.actor.role)), 303)


@bp.get("/worker")
@requires(Role.WORKER)
def worker():
    return _page("home/worker.html", Role.WORKER)


@bp.get("/employer")
@requires(Role.EMPLOYER)
def employer():
    return _page("home/employer.html", Role.EMPLOYER)


@bp.get("/staff")
@requires(*sorted(CITY_STAFF_ROLES))
def staff():
    return _page("home/staff.html", g.actor.role, city=city_name(g.actor.city_code))


@bp.get("/province")
@requires(Role.PROVINCIAL)
def province():
    return _page("home/province.html", Role.PROVINCIAL)
