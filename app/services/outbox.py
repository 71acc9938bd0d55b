"""Mails: rendered from the process package's mail templates (``app/package/mails.py``, in the
version of the request the mail is sent for, so that a request keeps its wording) into outbox rows,
in the caller's transaction, and delivered by the worker after commit, never in a web request. The
caller owns the transaction: these functions only flush; the worker commits after each mail.

Delivery takes one due row at a time with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so several
workers can run side by side; SQLite serialises transactions anyway. With ``MAIL_CAPTURE`` (the
embedded default) a mail is not sent over SMTP but kept as delivered, viewable at ``/dev/courriels``.

No mail is lost to an outage: a failed attempt is retried with an exponential backoff capped at
``OUTBOX_MAX_BACKOFF_MINUTES``, until ``OUTBOX_GIVE_UP_HOURS`` after the mail was queued (or put
back by « Renvoyer »); only a permanent refusal (SMTP 5xx for the recipient or the message) fails
at once. Each row keeps one ``Message-ID`` for all its attempts. A failed mail, and a pending one
after ``DIFFICULTY_ATTEMPTS`` attempts, are « en difficulté »: listed for admins
(/gestion/courriels) and logged by the worker.
"""
import logging
import secrets
import smtplib
import threading
from datetime import timedelta
from email.utils import parseaddr

import flask_mail
from flask import current_app
from sqlalchemy import event as orm_event
from sqlalchemy import or_
from sqlalchemy.orm import Session

from .. import clock, package
from ..extensions import db
from ..models import OutboxMail
from ..models.mail import FAILED, PENDING, SENT
from . import retries

#: A pending mail that failed this many times is shown to admins (« en difficulté »).
DIFFICULTY_ATTEMPTS = 3

log = logging.getLogger(__name__)


# --- waking the worker ------------------------------------------------------------------------

#: Set after a commit that queued work for the worker (mails, forgotten requests): the embedded
#: worker thread of ``flask portal`` waits on it instead of sleeping its whole interval.
wakeup = threading.Event()


def wake_after_commit() -> None:
    """Wake the worker once the current transaction commits (nothing happens if it rolls back)."""
    db.session.info["wake_worker"] = True


@orm_event.listens_for(Session, "after_commit")
def _after_commit(session):
    if session.info.pop("wake_worker", False):
        wakeup.set()


@orm_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if not previous_transaction.nested:  # a savepoint's rollback keeps the rest of the transaction
        session.info.pop("wake_worker", None)


# --- queueing ---------------------------------------------------------------------------------

def render(event: str, context: dict, request=None) -> tuple[str, str, str]:
    """(subject, text, html) of the mail ``event``, worded as the package of ``request`` says (the
    current package's when the mail is sent for no request)."""
    mails = (package.of(request.instance) if request is not None else package.current())["mails"]
    if not mails.items:  # a version deployed before mails were package data: the current wording
        mails = package.current()["mails"]
    return mails.render(event, context)


def _message_id() -> str:
    """A new ``Message-ID`` in the sender's domain."""
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2] or "localhost"
    return f"<outbox-{secrets.token_hex(12)}@{domain}>"


def enqueue(event: str, recipient: str, context: dict, request=None) -> OutboxMail:
    """Write the mail to the outbox; it leaves only if the transaction commits. ``context``: the
    variables of the template's sending context (``app/package/mails.py`` ``CONTEXTS``)."""
    subject, text, html = render(event, context, request)
    now = clock.now()
    row = OutboxMail(request=request, event=event, recipient=recipient, subject=subject,
                     body_text=text, body_html=html, status=PENDING, attempts=0,
                     next_attempt_at=now, created_at=now, message_id=_message_id())
    db.session.add(row)
    wake_after_commit()
    return row


# --- delivering -------------------------------------------------------------------------------

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
    message.msgId = row.message_id
    with _Connection(current_app.extensions["mail"]) as conn:
        conn.send(message)
    return "smtp"


def _permanent(exc: Exception) -> bool:
    """The server refused the recipient or the message for good (5xx): retrying cannot help.
    A 5xx on the sender or the login is our configuration, fixed by us: retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _backoff(attempts: int) -> timedelta:
    """2, 4, 8… minutes, at most OUTBOX_MAX_BACKOFF_MINUTES."""
    return retries.backoff(attempts, timedelta(minutes=2),
                           timedelta(minutes=float(current_app.config["OUTBOX_MAX_BACKOFF_MINUTES"])))


def give_up_at(row: OutboxMail):
    """After this moment a failed attempt fails the mail for good."""
    return (row.resent_at or row.created_at) + timedelta(hours=float(current_app.config["OUTBOX_GIVE_UP_HOURS"]))


def deliver_next() -> str | None:
    """Attempt the next due mail and flush; returns its status after the attempt (sent, pending,
    failed), None when none is due. The caller commits (one mail per transaction: a mail the server
    accepted is marked sent before the next one is tried)."""
    row = retries.next_due(OutboxMail)
    if row is None:
        return None
    row.attempts += 1
    row.message_id = row.message_id or _message_id()  # rows queued before Message-IDs were kept
    try:
        row.transport = _send(row)
    except Exception as exc:  # any SMTP/network failure: retry later, unless refused for good
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        now = clock.now()
        if _permanent(exc) or now >= give_up_at(row):
            row.status = FAILED
            log.error("mail %s to %s FAILED for good after %d attempt(s): %s", row.id, row.recipient,
                      row.attempts, row.last_error)
        else:
            row.next_attempt_at = now + _backoff(row.attempts)
            log.warning("mail %s to %s: attempt %d failed (%s); next attempt at %s", row.id, row.recipient,
                        row.attempts, row.last_error, row.next_attempt_at.isoformat(timespec="seconds"))
    else:
        row.status, row.sent_at, row.last_error = SENT, clock.now(), None
    db.session.flush()
    return row.status


# --- mails in difficulty (admins) ---------------------------------------------------------------

def _in_difficulty():
    return or_(OutboxMail.status == FAILED,
               (OutboxMail.status == PENDING) & (OutboxMail.attempts >= DIFFICULTY_ATTEMPTS))


def in_difficulty() -> list[OutboxMail]:
    """Failed mails, and pending ones that have failed several times, oldest first."""
    return list(db.session.scalars(db.select(OutboxMail).where(_in_difficulty())
                                   .order_by(OutboxMail.created_at, OutboxMail.id)))


def difficulty_summary() -> str | None:
    """One line for the worker's log when mails are in difficulty, None otherwise."""
    counts = dict(db.session.execute(db.select(OutboxMail.status, db.func.count())
                                     .where(_in_difficulty()).group_by(OutboxMail.status)).all())
    if not counts:
        return None
    return (f"{counts.get(FAILED, 0)} mail(s) failed for good and {counts.get(PENDING, 0)} still retried after "
            f"{DIFFICULTY_ATTEMPTS}+ failed attempts: see /gestion/courriels")


def resend(row: OutboxMail) -> bool:
    """« Renvoyer »: put a mail in difficulty back in the queue, due now, with a new retry period.
    False when it has been sent meanwhile."""
    if row.status == SENT:
        return False
    now = clock.now()
    row.status, row.next_attempt_at, row.resent_at = PENDING, now, now
    db.session.flush()
    wake_after_commit()
    return True
