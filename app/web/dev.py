"""Developer's mailbox: with MAIL_CAPTURE (the embedded default) mails are not sent but listed here.
The pages do not exist when a real SMTP server is configured."""
from flask import Blueprint, abort, current_app, render_template

from ..extensions import db
from ..models import OutboxMail

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def only_when_capturing():
    if not current_app.config["MAIL_CAPTURE"]:
        abort(404)


@bp.get("/courriels")
def mails():
    rows = db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id.desc()).limit(200)).all()
    return render_template("dev/mails.html", mails=rows)


@bp.get("/courriels/<int:mail_id>")
def mail(mail_id):
    row = db.session.get(OutboxMail, mail_id) or abort(404)
    return render_template("dev/mail.html", mail=row)
