"""The worker's work: due timers, expired drafts, pending mails.

Each job is a service function that does one unit of work and only flushes, returning what it
did (None: nothing was due). The worker owns the transactions: one commit per unit, so that a
failure undoes only its own unit, and one rollback when a job raises.
"""
from collections.abc import Callable

from .extensions import db
from .services import enrolment, outbox, timers


def drain(job: Callable[[], object], limit: int = 100) -> int:
    """Run ``job`` until it finds nothing due (at most ``limit`` times), committing each unit;
    returns how many units succeeded (a truthy result)."""
    done = 0
    for _ in range(limit):
        try:
            result = job()
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
        if result is None:
            break
        done += bool(result)
    return done


def work_once() -> dict:
    """One pass of the worker."""
    drafts = enrolment.purge_expired_drafts()
    db.session.commit()
    return {"timers": drain(timers.fire_next), "drafts": drafts, "mails": outbox.deliver_pending()}
