"""« Courriels en attente / en échec » (admins): the mails in difficulty, and « Renvoyer »."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from .. import access
from ..extensions import db
from ..models import OutboxMail
from ..services import outbox

bp = Blueprint("mails", __name__, url_prefix="/gestion/courriels")


@bp.get("")
@access.require_capability("mails")
def index():
    return render_template("mails/index.html", mails=outbox.in_difficulty(),
                           difficulty_attempts=outbox.DIFFICULTY_ATTEMPTS, give_up_at=outbox.give_up_at)


@bp.post("/renvoi")
@access.require_capability("mails")
def resend():
    mail_id = request.form.get("mail", type=int)
    mail = db.session.get(OutboxMail, mail_id) if mail_id else None
    if mail is None:
        abort(404)
    if outbox.resend(mail):
        db.session.commit()
        flash(f"Le courriel « {mail.subject} » à {mail.recipient} est remis dans la file d'envoi : il part dans "
              "quelques instants si le serveur de messagerie répond.", "success")
    else:
        flash(f"Le courriel « {mail.subject} » à {mail.recipient} a déjà été envoyé.", "info")
    return redirect(url_for(".index"), code=303)
