"""What the worker's outboxes share (mails: ``outbox``, webhooks: ``webhooks``): taking the next due
row so that several workers never take the same one, and the capped exponential backoff between
attempts. Both tables have ``status`` (``pending`` while due), ``next_attempt_at`` and ``id``."""
from datetime import timedelta

from .. import clock
from ..extensions import db
from ..models.mail import PENDING


def next_due(model, *conditions):
    """The pending row of ``model`` due the longest (and matching ``conditions``), locked ``FOR UPDATE
    SKIP LOCKED`` on PostgreSQL, the lock on that row only: a row another worker holds is skipped, and
    two workers never attempt the same row. SQLite serialises the writers anyway. None when none is due."""
    query = (db.select(model)
             .where(model.status == PENDING, model.next_attempt_at <= clock.now(), *conditions)
             .order_by(model.next_attempt_at, model.id).limit(1)
             .with_for_update(skip_locked=True, of=model))
    return db.session.scalars(query).first()


def backoff(attempts: int, first: timedelta, cap: timedelta) -> timedelta:
    """The wait after ``attempts`` failed attempts: ``first``, then twice as long each time, at most ``cap``."""
    return min(first * 2 ** min(max(attempts, 1) - 1, 30), cap)
