"""一网通办 sandbox peer: the platform side of the service-item protocol (办件上报), plus its pages.

Same process and app as the unified-login provider (so the demo and the live test stack run it
already), protocol in :mod:`adapters.gov_platform.client`. The peer

- verifies every request's HMAC-SM3 signature with the caller's registered secret, refuses
  replayed nonces, and signs its answers;
- keeps items, events and evaluations in memory under one lock (optionally mirrored to a JSON
  file, so ``portal demo`` keeps them across restarts);
- records an event id once: a repeat gets 200 ``{"duplicate": true}`` with the first answer;
- answers a completion with a 好差评 invitation (``/gov/evaluate/<token>``, once per item).

Pages (Chinese): ``/gov/items`` every 办件 with its stages (operator view); ``/gov/my-items`` only
the signed-in person's or legal person's 办件, behind the platform's own unified-login web
session (``/gov/login`` signs in and returns); ``/gov/evaluate/<token>`` the 好差评 form.

Test knobs (only when the app is built with ``testing=True``): ``POST /gov/_sandbox/faults`` with
``{"mode": "ok" | "down" | "slow", "delay_seconds": n}``: ``down`` answers every API call 503
without acting; ``slow`` acts (records the event) and then waits ``delay_seconds`` before
answering, which a client with a shorter timeout sees as "sent, answer lost".
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import structlog
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from adapters import BEIJING_TIME, sandbox_signing, signing
from adapters.gov_platform.service_items import (
    API_PREFIX,
    APPLICANT_KIND_LABELS,
    EVALUATION_RATINGS,
    HEADER_APP_ID,
    HEADERS,
    RESULT_MESSAGES,
    ApplicantKind,
    ResultCode,
    Stage,
)

from . import web_session

log = structlog.get_logger("sandbox.gov_platform.service_items")

STATE_KEY = "gov_service_items"
#: How long a 好差评 invitation stays open (ours; the platform's real period is not public).
EVALUATION_DAYS = 30
#: Comment required for these ratings (a 差评 must say why), and its length cap.
RATINGS_NEEDING_COMMENT = frozenset({"2", "1"})
COMMENT_MAX = 500
FAULT_MODES = ("ok", "down", "slow")

bp = Blueprint("govitems", __name__, template_folder="templates")


# --- state ------------------------------------------------------------------------------------


@dataclass
class Event:
    event_id: str
    stage: str
    stage_label: str
    occurred_at: str
    detail: str
    completed: bool
    result: str | None
    recorded_at: str


@dataclass
class Item:
    item_no: str
    item_code: str
    item_name: str
    applicant_sub: str
    applicant_name: str
    applicant_kind: str
    department: str
    city_code: str
    received_at: str
    registered_at: str
    updated_at: str
    app_id: str
    events: list[Event] = field(default_factory=list)
    completed: bool = False
    result: str | None = None
    evaluation_token: str | None = None

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("evaluation_token")
        return data

    @property
    def current_stage_label(self) -> str:
        return self.events[-1].stage_label if self.events else "已登记"


@dataclass
class Evaluation:
    token: str
    item_no: str
    applicant_sub: str
    expires_at: str
    rating: str | None = None
    comment: str = ""
    submitted_at: str | None = None


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class ServiceItemsState:
    """The platform's memory of 办件, events and evaluations; one lock guards all of it."""

    def __init__(self, apps: Mapping[str, str | bytes], *, data_file: Path | None = None,
                 testing: bool = False, base_url: str = "") -> None:
        #: where the platform is served (its evaluation links start with it)
        self.base_url = base_url
        self.apps = {app_id: (secret.encode("utf-8") if isinstance(secret, str) else secret)
                     for app_id, secret in apps.items() if app_id and secret}
        self.testing = testing
        self.data_file = Path(data_file) if data_file else None
        self.lock = threading.Lock()
        self.items: dict[str, Item] = {}
        #: event_id → (item_no, the first answer's body)
        self.answers: dict[str, tuple[str, dict]] = {}
        self.evaluations: dict[str, Evaluation] = {}
        #: How often each event id was posted (authentic requests only): tests count repeats.
        self.event_posts: Counter[str] = Counter()
        self._nonces = sandbox_signing.NonceMemory(self.lock)
        #: Test knobs (see the module docstring).
        self.fault_mode = "ok"
        self.fault_delay_seconds = 0.0
        self._load()

    # --- persistence (demo only) --------------------------------------------------------

    def _load(self) -> None:
        if not self.data_file or not self.data_file.exists():
            return
        data = json.loads(self.data_file.read_text(encoding="utf-8"))
        for raw in data.get("items", []):
            events = [Event(**e) for e in raw.pop("events", [])]
            item = Item(**raw, events=events)
            self.items[item.item_no] = item
        self.answers = {k: (v[0], v[1]) for k, v in data.get("answers", {}).items()}
        self.evaluations = {k: Evaluation(**v) for k, v in data.get("evaluations", {}).items()}

    def _save(self) -> None:
        """Called with the lock held."""
        if not self.data_file:
            return
        data = {"items": [asdict(i) for i in self.items.values()],
                "answers": {k: [v[0], v[1]] for k, v in self.answers.items()},
                "evaluations": {k: asdict(v) for k, v in self.evaluations.items()}}
        self.data_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.data_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.data_file)

    # --- protocol -----------------------------------------------------------------------

    def use_nonce(self, nonce: str) -> bool:
        return self._nonces.use(nonce)

    def upsert_item(self, app_id: str, fields: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            now = _now_iso()
            item = self.items.get(fields["item_no"])
            if item is not None and item.completed:
                return 409, _body(ResultCode.ITEM_COMPLETED)
            if item is None:
                item = Item(**fields, registered_at=now, updated_at=now, app_id=app_id)
                self.items[item.item_no] = item
                status = 201
            else:
                for key, value in fields.items():
                    setattr(item, key, value)
                item.updated_at = now
                status = 200
            self._save()
            return status, {**_body(ResultCode.OK), "item_no": item.item_no}

    def record_event(self, item_no: str, event: dict[str, Any], base_url: str) -> tuple[int, dict]:
        with self.lock:
            self.event_posts[event["event_id"]] += 1
            seen = self.answers.get(event["event_id"])
            if seen is not None:
                if seen[0] != item_no:
                    return 422, _body(ResultCode.INVALID_PAYLOAD, "事件编号已用于其他办件")
                return 200, {**seen[1], "duplicate": True}
            item = self.items.get(item_no)
            if item is None:
                return 404, _body(ResultCode.ITEM_NOT_FOUND)
            if item.completed:
                return 409, _body(ResultCode.ITEM_COMPLETED)
            recorded = Event(**event, recorded_at=_now_iso())
            item.events.append(recorded)
            answer: dict[str, Any] = {**_body(ResultCode.OK), "event_id": recorded.event_id,
                                      "recorded_at": recorded.recorded_at, "duplicate": False}
            if recorded.completed:
                item.completed, item.result = True, recorded.result
                token = secrets.token_urlsafe(18)
                expires = (datetime.now(UTC) + timedelta(days=EVALUATION_DAYS)).replace(microsecond=0)
                self.evaluations[token] = Evaluation(token, item_no, item.applicant_sub, expires.isoformat())
                item.evaluation_token = token
                answer["evaluation"] = {"url": f"{base_url}/gov/evaluate/{token}",
                                        "expires_at": expires.astimezone(BEIJING_TIME).isoformat()}
            self.answers[recorded.event_id] = (item_no, {k: v for k, v in answer.items() if k != "duplicate"})
            self._save()
            return 201, answer

    # --- reading ------------------------------------------------------------------------

    def item(self, item_no: str) -> Item | None:
        with self.lock:
            return self.items.get(item_no)

    def all_items(self, applicant_sub: str | None = None) -> list[Item]:
        with self.lock:
            items = [i for i in self.items.values() if applicant_sub is None or i.applicant_sub == applicant_sub]
        return sorted(items, key=lambda i: i.received_at, reverse=True)

    def events_of(self, item_no: str) -> list[Event]:
        with self.lock:
            item = self.items.get(item_no)
            return list(item.events) if item else []

    def evaluation(self, token: str) -> Evaluation | None:
        with self.lock:
            return self.evaluations.get(token)

    def submit_evaluation(self, token: str, rating: str, comment: str) -> bool:
        """Record once; False when it was already submitted."""
        with self.lock:
            evaluation = self.evaluations[token]
            if evaluation.submitted_at is not None:
                return False
            evaluation.rating, evaluation.comment, evaluation.submitted_at = rating, comment, _now_iso()
            self._save()
            return True


def _body(code: ResultCode, message: str | None = None) -> dict[str, Any]:
    return {"code": code.value, "message": message or RESULT_MESSAGES[code]}


def _state() -> ServiceItemsState:
    return current_app.extensions[STATE_KEY]


def _base_url() -> str:
    return current_app.config["GOV_PLATFORM_BASE_URL"]


# --- API ----------------------------------------------------------------------------------------


def _api_error(code: ResultCode, status: int, message: str | None = None):
    return jsonify(_body(code, message)), status


def _guard():
    """Faults, then app id, signature and nonce; None when the request may proceed."""
    state = _state()
    if state.fault_mode == "down":
        return _api_error(ResultCode.UNAVAILABLE, 503)
    app_id = request.headers.get(HEADER_APP_ID, "")
    key = state.apps.get(app_id)
    if key is None:
        return _api_error(ResultCode.UNKNOWN_APP, 401)
    g.gov_app_key, g.gov_app_id = key, app_id  # answers are signed with it
    try:
        sandbox_signing.verify_request(HEADERS, key, state.use_nonce)
    except signing.SignatureError as exc:
        if exc.code != sandbox_signing.REPLAYED_NONCE:
            log.warning("gov_items.signature_refused", app_id=app_id, reason=exc.code, path=request.path)
        return _api_error(sandbox_signing.refusal_code(ResultCode, exc), 401)
    return None


def _json_object() -> dict[str, Any] | None:
    try:
        data = json.loads(request.get_data().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _aware_iso(value: Any) -> str | None:
    """The value if it is ISO 8601 with an offset, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return value if parsed.tzinfo is not None else None


def _slow_answer(answer):
    """``slow`` fault: the work is done; the answer comes late (the caller may have given up)."""
    state = _state()
    if state.fault_mode == "slow" and state.fault_delay_seconds > 0:
        time.sleep(state.fault_delay_seconds)
    return answer


_ITEM_FIELDS = ("item_no", "item_code", "item_name", "applicant_sub", "applicant_name", "applicant_kind",
                "department", "city_code", "received_at")


@bp.put(f"{API_PREFIX}/service-items/<item_no>")
@sandbox_signing.refused_unless(_guard)
def put_item(item_no: str):
    data = _json_object()
    if data is None or not all(isinstance(data.get(k), str) and data[k].strip() for k in _ITEM_FIELDS):
        return _api_error(ResultCode.INVALID_PAYLOAD, 422)
    fields = {k: data[k].strip() for k in _ITEM_FIELDS}
    if (fields["item_no"] != item_no or fields["applicant_kind"] not in set(ApplicantKind)
            or _aware_iso(fields["received_at"]) is None):
        return _api_error(ResultCode.INVALID_PAYLOAD, 422)
    status, answer = _state().upsert_item(g.gov_app_id, fields)
    log.info("gov_items.item", item_no=item_no, status=status)
    return _slow_answer((jsonify(answer), status))


@bp.post(f"{API_PREFIX}/service-items/<item_no>/events")
@sandbox_signing.refused_unless(_guard)
def post_event(item_no: str):
    data = _json_object()
    if data is None:
        return _api_error(ResultCode.INVALID_PAYLOAD, 422)
    event_id, stage, label = data.get("event_id"), data.get("stage"), data.get("stage_label")
    detail, completed, result = data.get("detail") or "", data.get("completed"), data.get("result")
    occurred_at = _aware_iso(data.get("occurred_at"))
    valid = (isinstance(event_id, str) and 0 < len(event_id) <= 120
             and stage in set(Stage) and isinstance(label, str) and label.strip()
             and isinstance(detail, str) and len(detail) <= 500 and isinstance(completed, bool)
             and occurred_at is not None and (result is None or isinstance(result, str))
             and (not completed or (isinstance(result, str) and result.strip()))
             and (stage != Stage.COMPLETED or completed))
    if not valid:
        return _api_error(ResultCode.INVALID_PAYLOAD, 422)
    status, answer = _state().record_event(item_no, {
        "event_id": event_id, "stage": stage, "stage_label": label.strip(), "occurred_at": occurred_at,
        "detail": detail.strip(), "completed": completed, "result": result.strip() if result else None,
    }, _base_url())
    log.info("gov_items.event", item_no=item_no, stage=stage, status=status)
    return _slow_answer((jsonify(answer), status))


@bp.get(f"{API_PREFIX}/service-items/<item_no>")
@sandbox_signing.refused_unless(_guard)
def get_item(item_no: str):
    item = _state().item(item_no)
    if item is None:
        return _api_error(ResultCode.ITEM_NOT_FOUND, 404)
    return jsonify({**_body(ResultCode.OK), **item.public()})


@bp.after_request
def sign_answer(response: Response) -> Response:
    """API answers are signed with the caller's secret (an unknown caller gets none)."""
    key = g.get("gov_app_key")
    if key is not None and request.path.startswith(_prefix() + API_PREFIX):
        sandbox_signing.sign_answer(HEADERS, key, response)
    return response


def _prefix() -> str:
    return urlsplit(_base_url()).path


#: Test knobs; registered only in testing mode (see :func:`install`).
faults_bp = Blueprint("govitems_faults", __name__)


@faults_bp.post("/gov/_sandbox/faults")
def set_faults():
    state = _state()
    data = _json_object() or {}
    mode = data.get("mode", "ok")
    try:
        delay = float(data.get("delay_seconds") or 0)
    except (TypeError, ValueError):
        delay = -1
    if mode not in FAULT_MODES or not 0 <= delay <= 60:
        return _api_error(ResultCode.INVALID_PAYLOAD, 422)
    state.fault_mode, state.fault_delay_seconds = mode, delay
    log.info("gov_items.fault_mode", mode=mode, delay_seconds=delay)
    return jsonify(code="ok", mode=mode, delay_seconds=delay)


# --- pages ----------------------------------------------------------------------------------------


def _accounts():
    from .views import EXTENSION_KEY  # the OIDC server holds the account book

    return current_app.extensions[EXTENSION_KEY].accounts


def _local_time(value: str | None) -> str:
    """2026年1月5日 14:30 (China Standard Time)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(BEIJING_TIME)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


@bp.app_template_filter("gov_time")
def gov_time_filter(value: str | None) -> str:
    return _local_time(value)


def _page_context() -> dict[str, Any]:
    return {"kind_labels": {k.value: v for k, v in APPLICANT_KIND_LABELS.items()}}


@bp.get("/gov/items")
def all_items():
    """Operator view: every 办件 the platform holds, with its stages."""
    return render_template("service_items_all.html", items=_state().all_items(), **_page_context())


@bp.get("/gov/my-items")
def my_items():
    """The signed-in person's (or legal person's) own 办件, behind the unified login."""
    user = web_session.current_user(_accounts())
    if user is None:
        return redirect(url_for("govitems.login", next=url_for("govitems.my_items")), 303)
    state = _state()
    items = state.all_items(applicant_sub=user.account.sub)
    pending = {}
    for item in items:
        evaluation = state.evaluation(item.evaluation_token) if item.evaluation_token else None
        if evaluation is not None and evaluation.submitted_at is None:
            pending[item.item_no] = evaluation.token
    return render_template("service_items_mine.html", items=items, account=user.account,
                           pending_evaluations=pending, **_page_context())


def _safe_next(value: str | None) -> str:
    """Only back to a page of this platform (no open redirect)."""
    default = url_for("govitems.my_items")
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if not value.startswith(_prefix() + "/gov/"):
        return default
    return value


@bp.route("/gov/login", methods=["GET", "POST"])
def login():
    """The platform's own sign-in page (统一身份认证) for its pages; sets the same web session as
    the OpenID Connect login, so either one signs the person in for both."""
    target = _safe_next(request.values.get("next"))
    username, error, field_errors, status = "", None, {}, 200
    if request.method == "POST":
        if not web_session.csrf_valid(request.form.get("csrf_token")):
            error, status = "页面已过期，请重新输入用户名和密码。", 400
        else:
            username = request.form.get("username", "").strip()
            password = request.form.get("password", "")
            if not username:
                field_errors["username"] = "请填写用户名"
            if not password:
                field_errors["password"] = "请填写密码"
            if field_errors:
                status = 422
            else:
                account = _accounts().authenticate(username, password)
                if account is not None:
                    web_session.sign_in(account)
                    log.info("gov_items.login", sub=account.sub)
                    return redirect(target, 303)
                error = "用户名或密码错误，请重新输入。"
    return render_template("service_items_login.html", action=url_for("govitems.login", next=target),
                           username=username, error=error, field_errors=field_errors,
                           csrf_token=web_session.csrf_token()), status


@bp.route("/gov/evaluate/<token>", methods=["GET", "POST"])
def evaluate(token: str):
    """好差评: one evaluation per completed 办件, through the link sent to the applicant."""
    state = _state()
    evaluation = state.evaluation(token)
    if evaluation is None:
        return render_template("error.html", heading="评价链接无效",
                               message="没有找到该评价，请从门户收件箱中的链接进入。"), 404
    item = state.item(evaluation.item_no)
    expired = datetime.fromisoformat(evaluation.expires_at) < datetime.now(UTC)
    rating, comment, field_errors, status, error = "", "", {}, 200, None
    if request.method == "POST" and evaluation.submitted_at is None and not expired:
        rating = request.form.get("rating", "")
        comment = request.form.get("comment", "").strip()
        if not web_session.csrf_valid(request.form.get("csrf_token")):
            error, status = "页面已过期，请重新提交评价。", 400
        else:
            if rating not in EVALUATION_RATINGS:
                field_errors["rating"] = "请选择评价等级"
            if rating in RATINGS_NEEDING_COMMENT and not comment:
                field_errors["comment"] = "请填写不满意的原因"
            if len(comment) > COMMENT_MAX:
                field_errors["comment"] = f"评价内容不能超过{COMMENT_MAX}字"
            if field_errors:
                status = 422
            else:
                state.submit_evaluation(token, rating, comment)
                log.info("gov_items.evaluated", item_no=evaluation.item_no, rating=rating)
                return redirect(url_for("govitems.evaluate", token=token), 303)
        evaluation = state.evaluation(token)
    return render_template("service_items_evaluate.html", evaluation=evaluation, item=item, expired=expired,
                           ratings=EVALUATION_RATINGS, rating=rating, comment=comment, error=error,
                           field_errors=field_errors, csrf_token=web_session.csrf_token(),
                           comment_max=COMMENT_MAX), status


def install(app, *, base_url: str, apps: Mapping[str, str | bytes] | None, data_file: Path | None,
            testing: bool, prefix: str | None) -> ServiceItemsState:
    """Add the 一网通办 peer to the sandbox app (called by ``create_sandbox_app``)."""
    state = ServiceItemsState(apps or {}, data_file=data_file, testing=testing, base_url=base_url)
    app.extensions[STATE_KEY] = state
    app.config["GOV_PLATFORM_BASE_URL"] = base_url
    app.register_blueprint(bp, url_prefix=prefix)
    if testing:
        app.register_blueprint(faults_bp, url_prefix=prefix)
    return state
