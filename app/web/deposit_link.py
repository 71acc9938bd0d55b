"""« Déposer des pièces jointes » with only the mail received: the personal deposit link of a
request whose account holder has no account yet (rules in app/services/accounts.py). Opening it
gives this browser access to that request's deposit, then the generic task view takes over."""
from flask import Blueprint, redirect, render_template, url_for

from .. import access
from ..services import accounts

bp = Blueprint("deposit_link", __name__)


@bp.get(accounts.DEPOSIT_PATH + "<token>")
def open_link(token):
    link, refusal = accounts.check_deposit_link(token)
    if link is None:
        return render_template("errors/error.html", code=410, title="Lien de dépôt non valide",
                               message=refusal), 410
    access.open_deposit(link)
    return redirect(url_for("tasks.step", public_id=link.request.public_id), code=303)
