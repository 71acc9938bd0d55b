"""« Comptes » (capability « accounts », admins): every account with its roles; give a role (an agent
who is also a supervisor) or take one back. ``flask users add-role / remove-role`` do the same."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from .. import access, roles
from ..extensions import db
from ..models import User
from ..services import accounts, audit, listing

bp = Blueprint("staff_accounts", __name__, url_prefix="/gestion/comptes")

PER_PAGE = 50


@bp.get("")
@access.require_capability("accounts")
def index():
    page = listing.paginate(db.select(User).order_by(User.login, User.id), request.args.get("page"), PER_PAGE,
                            after=request.args.get("after"), before=request.args.get("before"))
    return render_template("accounts/index.html", page=page, roles=roles.current())


def _change(user_id: int, change, success: str):
    """Apply ``change(user, role)`` for the posted role, commit, tell the admin (``success`` names
    {role} and {login}); a refusal is flashed in French and changes nothing."""
    user = db.session.get(User, user_id) or abort(404)
    code = request.form.get("role", "")
    try:
        change(user, code)
    except accounts.AccountError as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        label = roles.current().label(code)
        audit.record(success.format(role=label, login=user.login), None)
        db.session.commit()
        flash(success.format(role=label, login=user.login) + ".", "success")
    return redirect(url_for(".index", page=request.form.get("page") or None, _anchor=f"compte-{user_id}"), code=303)


@bp.post("/<int:user_id>/roles/ajout")
@access.require_capability("accounts")
def give(user_id):
    return _change(user_id, accounts.give_role, "Rôle « {role} » donné au compte {login}")


@bp.post("/<int:user_id>/roles/retrait")
@access.require_capability("accounts")
def remove(user_id):
    return _change(user_id, accounts.remove_role, "Rôle « {role} » retiré au compte {login}")
