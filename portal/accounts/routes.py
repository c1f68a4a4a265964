"""个人信息: a worker sees their own personal data, masked, and sets their payment account."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from portal.accounts import service
from portal.accounts.forms import BankAccountForm
from portal.auth.access import requires
from portal.auth.roles import Role
from portal.extensions import db_session
from portal.web.forms import handle_form, see_other

bp = Blueprint("accounts", __name__, url_prefix="/my")


def _profile(form: BankAccountForm) -> str:
    # the service audits the read in its own transaction, before anything is shown
    return render_template("accounts/profile.html", form=form,
                           data=service.read_own_personal_data(db_session(), g.actor))


@bp.get("/profile")
@requires(Role.WORKER)
def profile():
    return _profile(BankAccountForm())


@bp.post("/bank-account")
@requires(Role.WORKER)
def update_bank_account():
    return handle_form(
        BankAccountForm(),
        lambda f: service.update_own_bank_account(db_session(), g.actor, bank_name=f.bank_name.data,
                                                  account_number=f.account_number.data),
        done=lambda _: see_other("accounts.profile", flash_message="待遇发放账户已保存。"),
        again=lambda f, status: (_profile(f), status))
