"""个人信息: a worker sees their own personal data, masked, and sets their payment account."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for

from portal.accounts import service
from portal.accounts.forms import BankAccountForm
from portal.auth.access import requires
from portal.auth.roles import Role
from portal.errors import UserInputError
from portal.extensions import db_session, separate_transaction

bp = Blueprint("accounts", __name__, url_prefix="/my")


@bp.get("/profile")
@requires(Role.WORKER)
def profile():
    return render_template("accounts/profile.html", data=_read_personal_data(), form=BankAccountForm())


def _read_personal_data() -> service.PersonalData:
    """Audited in its own committed transaction before anything is shown."""
    with separate_transaction() as sess:
        return service.read_own_personal_data(sess, g.actor)


@bp.post("/bank-account")
@requires(Role.WORKER)
def update_bank_account():
    form = BankAccountForm()
    if form.validate_on_submit():
        try:
            service.update_own_bank_account(db_session(), g.actor, bank_name=form.bank_name.data,
                                            account_number=form.account_number.data)
        except UserInputError as exc:
            form.account_number.errors = [*form.account_number.errors, exc.message]
        else:
            flash("待遇发放账户已保存。", "success")
            return redirect(url_for("accounts.profile"), 303)
    return render_template("accounts/profile.html", data=_read_personal_data(), form=form), 422
