"""The one clock of the application.

Everything that needs the current time (timers, deadlines, « date de dépôt », draft expiry, outbox
retries) asks ``clock.now()``, so that tests move time instead of sleeping.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_frozen: datetime | None = None
#: The time of one piece of work only (a simulation's virtual clock), in this thread or task.
_moment: ContextVar[datetime | None] = ContextVar("clock_moment", default=None)


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    moment = _moment.get()
    if moment is not None:
        return moment
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


@contextmanager
def at(moment: datetime):
    """``now()`` is ``moment`` inside the block, for this thread only (a simulation's virtual clock:
    the other requests the process serves keep the real time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    token = _moment.set(moment)
    try:
        yield moment
    finally:
        _moment.reset(token)


def freeze(at: datetime | None) -> None:
    """Set (or, with None, release) the time returned by ``now()``. Used by tests and the bench."""
    global _frozen
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    _frozen = at


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward (freezing it at the current time first if needed)."""
    freeze(now() + delta)
    return now()


def local(moment: datetime) -> datetime:
    """The moment in French local time, for display."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(PARIS)


def date_fr(moment: datetime | None) -> str:
    """« 02/03/2026 », in French local time ("" for None): every page, mail and PDF says dates so."""
    return local(moment).strftime("%d/%m/%Y") if moment else ""


def datetime_fr(moment: datetime | None) -> str:
    """« 02/03/2026 à 11:00 », in French local time ("" for None)."""
    return local(moment).strftime("%d/%m/%Y à %H:%M") if moment else ""
