"""The agents' audit trail: who did what on which request, when and why, and a request's history
(its workflow events and the staff actions, merged)."""
from dataclasses import dataclass
from datetime import datetime

from flask_login import current_user

from .. import clock
from ..extensions import db
from ..models import AuditEntry, EnrolmentRequest, User


def actor_label(user: User | None) -> str:
    """How a person is named in a history (as ``access.current_actor`` names the current user)."""
    return f"{user.display_name} ({user.login})" if user is not None else "système"


def record(action: str, request: EnrolmentRequest | None = None, reason: str = "",
           actor: User | None = None) -> AuditEntry:
    """Add an audit entry (``actor``: the current user by default) to the caller's transaction."""
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    entry = AuditEntry(at=clock.now(), actor_id=actor.id if actor is not None else None,
                       actor=actor_label(actor), action=action, reason=reason or "",
                       request_id=request.id if request is not None else None)
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    actor: str
    action: str
    detail: str


def for_request(request: EnrolmentRequest) -> list[HistoryLine]:
    """The request's history, oldest first: workflow events and audit entries together."""
    lines = [HistoryLine(e.at, e.actor, e.action, e.detail) for e in request.events]
    entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.request_id == request.id)
                                 .order_by(AuditEntry.id))
    lines += [HistoryLine(e.at, e.actor, e.action, e.reason) for e in entries]
    return sorted(lines, key=lambda line: line.at)  # stable: each source keeps its own order
