"""The worker's work: due timers, asynchronous tasks, expired drafts, documents waiting for the
antivirus, « J'ai oublié » requests, pending mails, pending webhooks.

Each job is a service function that does one unit of work and only flushes, returning what it
did (None: nothing was due). The worker owns the transactions: one commit per unit, so that a
crash loses at most the unit in progress, and one rollback when a job raises.
"""
import logging
from collections.abc import Callable

from .extensions import db
from .models.mail import SENT
from .models.webhook import DELIVERED
from .services import accounts, continuations, documents, enrolment, outbox, timers, webhooks

log = logging.getLogger(__name__)


def drain(job: Callable[[], object], limit: int = 1000) -> list:
    """Run ``job`` until it finds nothing due (at most ``limit`` times), committing each unit;
    returns what each unit returned."""
    results = []
    for _ in range(limit):
        try:
            result = job()
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
        if result is None:
            break
        results.append(result)
    return results


def deliver_mails() -> int:
    """The mail pass: turn the « J'ai oublié » requests into mails, then deliver the due mails, one
    transaction each. Returns how many were sent; mails in difficulty are logged as errors."""
    drain(accounts.handle_next_forgotten)
    statuses = drain(outbox.deliver_next)
    if any(status != SENT for status in statuses):
        summary = outbox.difficulty_summary()
        if summary:
            log.error("mails in difficulty: %s", summary)
    return statuses.count(SENT)


def deliver_webhooks() -> int:
    """The webhook pass: the due deliveries, one transaction each, in order per endpoint and request.
    Returns how many were delivered."""
    return drain(webhooks.deliver_next).count(DELIVERED)


def work_once() -> dict:
    """One pass of the worker."""
    done = {"drafts": enrolment.purge_expired_drafts(), "login_attempts": accounts.purge_login_attempts()}
    db.session.commit()
    return {"timers": sum(drain(timers.fire_next)),
            # after the timers (a timer may lead to an asynchronous task), before the mails (the
            # steps after an asynchronous task queue theirs, which leave in this pass)
            "continuations": sum(drain(continuations.run_next)), **done,
            "documents": len(drain(documents.scan_next_pending)),  # before the mails: an infected
            "mails": deliver_mails(),                               # file's mail leaves in this pass
            "webhooks": deliver_webhooks()}  # last: the events of everything above leave in this pass


def loop(app, interval: float) -> None:
    """Work, then wait ``interval`` seconds, or less when a commit of this process queued mails or
    made asynchronous tasks due; forever. A failed pass is logged and the next one tries again; no
    session nor transaction stays open between passes (on SQLite it would hold the write lock)."""
    while True:
        outbox.wakeup.clear()
        with app.app_context():
            try:
                work_once()
            except Exception:  # a database or SMTP hiccup: logged loudly, the next pass tries again
                log.exception("worker pass failed")
            finally:
                db.session.remove()
        outbox.wakeup.wait(interval)
