"""个人信息: a worker sees their own personal data, masked, and sets their payment account.
姓名不一致待核实: clerks check persons typed by other accounts whose name differs from the
person's real-name record."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from portal.accounts import service
from portal.accounts.forms import BankAccountForm, ConfirmForm
from portal.auth.access import requires
from portal.auth.roles import Role
from portal.extensions import db_session
from portal.web.forms import back_with_errors, handle_form, see_other

bp = Blueprint("accounts", __name__)


def _profile(form: BankAccountForm) -> str:
    # the service audits the read in its own transaction, before anything is shown
    return render_template("accounts/profile.html", form=form,
                           data=service.read_own_personal_data(db_session(), g.actor))


@bp.get("/my/profile")
@requires(Role.WORKER)
def profile():
    return _profile(BankAccountForm())


@bp.post("/my/bank-account")
@requires(Role.WORKER)
def update_bank_account():
    return handle_form(
        BankAccountForm(),
        lambda f: service.update_own_bank_account(db_session(), g.actor, bank_name=f.bank_name.data,
                                                  account_number=f.account_number.data),
        done=lambda _: see_other("accounts.profile", flash_message="待遇发放账户已保存。"),
        again=lambda f, status: (_profile(f), status))


@bp.get("/staff/name-mismatches")
@requires(Role.CLERK, Role.PROVINCIAL)
def name_mismatches():
    page = request.args.get("page", 1, type=int) or 1
    result = service.read_name_mismatches(db_session(), g.actor, page=min(max(page, 1), 100000))
    return render_template("accounts/name_mismatches.html", result=result,
                           is_province=g.actor.role is Role.PROVINCIAL)


@bp.post("/staff/name-mismatches/<int:person_id>/link")
@requires(Role.CLERK, Role.PROVINCIAL)
def link_person(person_id: int):
    return handle_form(
        ConfirmForm(),
        lambda _: service.link_typed_person(db_session(), g.actor, person_id),
        done=lambda p: see_other("accounts.name_mismatches",
                                 flash_message=f"已确认为同一人，相关记录已改用实名信息（{p.name}）。"),
        again=lambda f, _: back_with_errors(f, "accounts.name_mismatches"))


@bp.post("/staff/name-mismatches/<int:person_id>/separate")
@requires(Role.CLERK, Role.PROVINCIAL)
def keep_separate(person_id: int):
    return handle_form(
        ConfirmForm(),
        lambda _: service.keep_person_separate(db_session(), g.actor, person_id),
        done=lambda _: see_other("accounts.name_mismatches",
                                 flash_message="已标记为不是同一人，该记录保持独立；已通知录入方核对身份证号码（早期录入、无法确定录入方的除外）。"),
        again=lambda f, _: back_with_errors(f, "accounts.name_mismatches"))
