"""Developer's mailbox: with mail capture, mails are not sent but listed here.

A development tool only: served when the app runs under the ``portal`` command (which sets
``DEV_MAILBOX``) and only to requests from this machine (loopback). A WSGI server never serves it,
whatever the mail settings, so that nobody reads someone else's password link."""
import ipaddress

from flask import Blueprint, abort, current_app, render_template, request

from ..extensions import db
from ..models import OutboxMail

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _from_this_machine() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.before_request
def only_for_the_developer():
    config = current_app.config
    if not (config["DEV_MAILBOX"] and config["MAIL_CAPTURE"] and _from_this_machine()):
        abort(404)


@bp.get("/courriels")
def mails():
    rows = db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id.desc()).limit(200)).all()
    return render_template("dev/mails.html", mails=rows)


@bp.get("/courriels/<int:mail_id>")
def mail(mail_id):
    row = db.session.get(OutboxMail, mail_id) or abort(404)
    return render_template("dev/mail.html", mail=row)
