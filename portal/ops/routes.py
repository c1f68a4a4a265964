"""Operations: health check, metrics, and the system self-check (系统自检) page."""

from __future__ import annotations

import time

import structlog
from flask import Blueprint, Response, g, jsonify, redirect, render_template, url_for
from sqlalchemy import text

from portal import metrics as portal_metrics
from portal.api.openapi import operation
from portal.auth.access import public, requires, staff_network
from portal.auth.roles import Role
from portal.extensions import database, db_session
from portal.ops import service
from portal.ops.forms import SelfCheckForm
from portal.tasks import queue
from portal.web.forms import back_with_errors, handle_form, see_other
from portal.web.rendering import wants_fragment

bp = Blueprint("ops", __name__)

HEALTH_SCHEMA = {
    "type": "object", "required": ["status", "database", "queue"],
    "properties": {
        "status": {"enum": ["ok", "unavailable"]},
        "database": {"type": "object", "required": ["backend", "ok"], "properties": {
            "backend": {"enum": ["sqlite", "postgresql"]}, "ok": {"type": "boolean"},
            "latency_ms": {"type": "number"}}},
        "queue": {"type": "object", "properties": {"backend": {"enum": ["sqlite", "redis"]}}},
    },
}

log = structlog.get_logger("portal.ops")

@bp.get("/healthz")
@public
@operation(summary="健康检查 (liveness and readiness)", tags=["ops"], responses={
    "200": {"description": "数据库可用", "content": {"application/json": {"schema": HEALTH_SCHEMA}}},
    "503": {"description": "数据库不可用", "content": {"application/json": {"schema": HEALTH_SCHEMA}}},
})
def healthz():
    """Liveness and readiness for load balancers: the database must answer ``SELECT 1``."""
    db = database()
    started = time.perf_counter()
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        ok = True
    except Exception as exc:  # any failure means "not ready"; details go to the log only
        log.warning("healthz.database_unavailable", error=type(exc).__name__)
        ok = False
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {"backend": db.backend, "ok": ok, "latency_ms": latency_ms},
        "queue": {"backend": queue.huey.backend},
    }
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
@staff_network
def metrics():
    """Prometheus text format, for the staff networks' scraper only."""
    return Response(portal_metrics.render(), content_type=portal_metrics.CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})


@bp.get("/ops/self-check")
@requires(Role.PROVINCIAL)
def self_check():
    runs = service.recent_runs(db_session())
    return render_template("ops/self_check.html", runs=runs, latest=runs[0] if runs else None)


@bp.post("/ops/self-check")
@requires(Role.PROVINCIAL)
def request_self_check():
    return handle_form(
        SelfCheckForm(),
        lambda _: service.start_self_check(db_session(), g.actor),
        done=_requested,
        again=lambda f, _: back_with_errors(f, "ops.self_check"))


def _requested(run):
    if wants_fragment():
        return render_template("ops/_run_status.html", run=run)
    return see_other("ops.self_check")


@bp.get("/ops/self-check/runs/<int:run_id>")
@requires(Role.PROVINCIAL)
def self_check_status(run_id: int):
    """The self-updating status partial (polled by htmx while the run is queued or running)."""
    run = service.get_run(db_session(), run_id)
    if not wants_fragment():
        return redirect(url_for("ops.self_check"), 303)
    return render_template("ops/_run_status.html", run=run)
