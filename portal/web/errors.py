"""Chinese error pages (and JSON errors on /api/ and for JSON clients)."""

from __future__ import annotations

import structlog
from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.db import DATABASE_FAULTS, database_fault
from portal.errors import DomainError
from portal.web import unit_of_work

log = structlog.get_logger("portal.errors")

TITLES = {
    400: ("请求有误", "您提交的内容无法处理，请返回上一页检查后重试。"),
    403: ("无权访问", "您当前的身份无权查看此页面。如需办理，请使用有权限的账号登录。"),
    404: ("页面不存在", "您要找的页面不存在，或者您无权查看。请检查地址，或从首页重新进入。"),
    405: ("请求方式不正确", "此页面不支持该操作，请从页面上的按钮进入。"),
    413: ("上传内容过大", "您上传的文件超过了大小限制，请压缩后重试。"),
    422: ("填写内容有误", "请根据提示修改后重新提交。"),
    429: ("操作过于频繁", "您的操作过于频繁，请稍等一分钟后再试。"),
    500: ("系统出错了", "系统暂时无法处理您的请求，我们已记录此问题。请稍后重试；您已保存的内容不会丢失。"),
    503: ("外部系统暂不可用", "相关平台暂时没有响应，请稍后重试。"),
}
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 422: "invalid_input", 429: "rate_limited", 500: "internal_error",
         503: "unavailable"}
# The database is down or a lock/statement timeout ran out: 503, with what the visitor can do.
DATABASE_PAGES = {
    "database_unavailable": ("系统暂时不可用", "系统暂时无法访问数据库，请稍后重试；您已保存的内容不会丢失。"),
    "database_busy": ("系统繁忙", "系统繁忙，您的请求未能在规定时间内完成，请稍后重试；"
                                  "本次操作未生效，您已保存的内容不会丢失。"),
}
RETRY_AFTER_SECONDS = "30"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str | None = None, code: str | None = None,
                   title: str | None = None):
    default_title, default_message = TITLES.get(status, TITLES[400 if status < 500 else 500])
    title = title or default_title
    message = message or default_message
    code = code or CODES.get(status, "error")
    if wants_json():
        return jsonify(error={"code": code, "message": message, "request_id": g.get("request_id")}), status
    return render_template("errors/error.html", status=status, title=title, message=message,
                           code=code), status


def database_error_response(exc: BaseException):
    """The 503 answer to a database fault (see ``portal.db.database_fault``); no traceback, the
    exception's class goes to the log (its text may quote SQL)."""
    code = database_fault(exc) or "database_unavailable"
    log.warning("request.database_fault", code=code, error=type(exc).__name__,
                cause=type(getattr(exc, "orig", None) or exc).__name__, endpoint=request.endpoint)
    title, message = DATABASE_PAGES[code]
    body, status = error_response(503, message, code, title)
    return body, status, {"Retry-After": RETRY_AFTER_SECONDS}


def init_app(app: Flask) -> None:
    def database_error(exc: Exception):
        _abandon_quietly()
        return database_error_response(exc)

    for fault in DATABASE_FAULTS:
        app.register_error_handler(fault, database_error)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return error_response(400, "页面已过期或表单校验失败，请刷新页面后重新提交。", "csrf_failed")

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        unit_of_work.abandon()  # a domain error never commits, whatever the response status
        body, status = error_response(exc.status, exc.message, exc.code)
        if status == 401:  # machine interfaces authenticate with HTTP Basic
            return body, status, {"WWW-Authenticate": 'Basic realm="portal-api", charset="UTF-8"'}
        return body, status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        original = getattr(exc, "original_exception", None)
        if status == 500 and database_fault(original):  # raised outside the view (session save)
            _abandon_quietly()
            return database_error_response(original)
        return error_response(status)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        unit_of_work.abandon()
        log.exception("request.unhandled_error", endpoint=request.endpoint)
        return error_response(500)


def _abandon_quietly() -> None:
    try:
        unit_of_work.abandon()
    except DATABASE_FAULTS:  # the connection is gone: nothing of this request was committed
        log.warning("request.rollback_failed")
