"""Mails: rendered from ``mail_templates/<event>/`` into outbox rows, in the caller's transaction,
and delivered after commit, with retries.

Delivery takes one row at a time with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so several workers
can run side by side; SQLite serialises transactions anyway. With ``MAIL_CAPTURE`` (the embedded
default) a mail is not sent over SMTP but kept as delivered, viewable at ``/dev/courriels``.
"""
import smtplib
from datetime import timedelta

import flask_mail
from flask import current_app, g
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .. import clock
from ..config import ROOT
from ..extensions import db
from ..models import OutboxMail
from ..models.mail import FAILED, PENDING, SENT

TEMPLATES = ROOT / "mail_templates"

_env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                   keep_trailing_newline=True)
_env.filters["date_fr"] = clock.date_fr


def render(event: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) of the mail ``event``."""
    subject = _env.get_template(f"{event}/subject.txt").render(context)
    text = _env.get_template(f"{event}/body.txt").render(context)
    html = _env.get_template(f"{event}/body.html").render(context)
    return " ".join(subject.split()), text, html


def enqueue(event: str, recipient: str, context: dict, request=None) -> OutboxMail:
    """Write the mail to the outbox; it leaves only if the transaction commits."""
    subject, text, html = render(event, context)
    now = clock.now()
    row = OutboxMail(request=request, event=event, recipient=recipient, subject=subject,
                     body_text=text, body_html=html, status=PENDING, attempts=0,
                     next_attempt_at=now, created_at=now)
    db.session.add(row)
    g.outbox_pending = True
    return row


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 360))


class _Connection(flask_mail.Connection):
    """Flask-Mail's connection, with a timeout so that a dead SMTP server cannot hang a worker."""

    def configure_host(self):
        factory = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = factory(self.mail.server, self.mail.port, timeout=current_app.config["MAIL_TIMEOUT"])
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def _send(row: OutboxMail) -> str:
    if current_app.config["MAIL_CAPTURE"]:
        return "capture"
    message = flask_mail.Message(subject=row.subject, recipients=[row.recipient],
                                 body=row.body_text, html=row.body_html)
    with _Connection(current_app.extensions["mail"]) as conn:
        conn.send(message)
    return "smtp"


def _next_due():
    now = clock.now()
    query = (db.select(OutboxMail)
             .where(OutboxMail.status == PENDING, OutboxMail.next_attempt_at <= now)
             .order_by(OutboxMail.id).limit(1)
             .with_for_update(skip_locked=True))
    return db.session.scalars(query).first()


def deliver_pending(limit: int = 100) -> int:
    """Deliver due mails, one transaction each. Returns how many were sent."""
    sent = 0
    for _ in range(limit):
        row = _next_due()
        if row is None:
            db.session.commit()
            break
        row.attempts += 1
        try:
            row.transport = _send(row)
        except Exception as exc:  # any SMTP/network failure: retry later
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
                row.status = FAILED
            else:
                row.next_attempt_at = clock.now() + _backoff(row.attempts)
        else:
            row.status, row.sent_at, row.last_error = SENT, clock.now(), None
            sent += 1
        db.session.commit()
    return sent


def deliver_after_request(response):
    """In-process delivery after a request that queued mails (embedded default and tests)."""
    if g.pop("outbox_pending", False) and current_app.config["OUTBOX_DELIVER_AFTER_COMMIT"]:
        db.session.rollback()  # whatever the view left uncommitted is not ours to deliver
        deliver_pending()
    return response
