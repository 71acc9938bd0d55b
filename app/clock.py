"""The one clock of the application.

Everything that needs the current time (timers, deadlines, « date de dépôt », draft expiry, outbox
retries) asks ``clock.now()``, so that tests move time instead of sleeping.
"""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


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
