"""Claims (« prise en charge »): an agent holds a request before deciding it, so that two agents
never decide the same request. Each change is one conditional UPDATE whose row count says whether
it won: of two agents claiming at once, exactly one does, whatever the database. The caller commits.
"""
from .. import clock
from ..extensions import db
from ..models import EnrolmentRequest, User
from ..roles import ADMIN, AGENT
from . import audit

#: Roles whose users may hold a request (an admin may stand in for an agent).
HOLDER_ROLES = (AGENT, ADMIN)


class ClaimError(Exception):
    """A claim, release or reassignment that cannot be done; the message is for the user."""

    @property
    def message(self) -> str:
        return self.args[0]


def assignable_agents() -> list[User]:
    """The active users a request may be given to, by name."""
    return db.session.scalars(db.select(User).where(User.role.in_(HOLDER_ROLES), User.active.is_(True))
                              .order_by(User.last_name, User.first_name, User.login)).all()


def claim(request: EnrolmentRequest, agent: User) -> None:
    """``agent`` takes the request, if nobody holds it."""
    _check_holder(agent)
    if not _set_holder(request, None, agent):
        holder = _holder(request)
        if holder is not None and holder.id == agent.id:
            raise ClaimError("Vous avez déjà pris en charge cette demande.")
        raise ClaimError(f"Cette demande est déjà prise en charge par {_name(holder)} : "
                         "vous ne pouvez pas la prendre en charge.")
    audit.record("Prise en charge", request, actor=agent)


def release(request: EnrolmentRequest, agent: User) -> None:
    """The holder (or an admin) gives the request back to the queue."""
    holder = _holder(request)
    if holder is None:
        raise ClaimError("Cette demande n'est prise en charge par personne.")
    if holder.id != agent.id and agent.role != ADMIN:
        raise ClaimError(f"Seul {_name(holder)}, qui a pris en charge cette demande, ou un administrateur "
                         "peut la libérer.")
    if not _set_holder(request, holder, None):
        raise ClaimError(_CHANGED)
    action = "Libération" if holder.id == agent.id else f"Libération (prise en charge par {_name(holder)})"
    audit.record(action, request, actor=agent)


def reassign(request: EnrolmentRequest, agent: User | None, by_admin: User) -> None:
    """An admin gives the request to ``agent``, whoever held it."""
    if by_admin.role != ADMIN:
        raise ClaimError("Seul un administrateur peut réattribuer une demande.")
    if agent is None or agent.role not in HOLDER_ROLES or not agent.active:
        raise ClaimError("Choisissez un gestionnaire actif à qui réattribuer la demande.")
    holder = _holder(request)
    if holder is not None and holder.id == agent.id:
        raise ClaimError(f"Cette demande est déjà prise en charge par {_name(agent)}.")
    if not _set_holder(request, holder, agent):
        raise ClaimError(_CHANGED)
    reason = f"prise en charge auparavant par {_name(holder)}" if holder is not None else ""
    audit.record(f"Réattribution à {_name(agent)}", request, reason=reason, actor=by_admin)


_CHANGED = ("La prise en charge de cette demande vient d'être modifiée par quelqu'un d'autre : "
            "vérifiez qui la détient maintenant.")


def _check_holder(agent: User) -> None:
    if agent.role not in HOLDER_ROLES or not agent.active:
        raise ClaimError("Seul un gestionnaire peut prendre en charge une demande.")


def _name(user: User | None) -> str:
    return user.display_name if user is not None else "personne"


def _holder(request: EnrolmentRequest) -> User | None:
    """Who holds the request now, as committed (not as this session last saw it)."""
    holder_id = db.session.scalar(db.select(EnrolmentRequest.claimed_by_id)
                                  .where(EnrolmentRequest.id == request.id))
    return db.session.get(User, holder_id) if holder_id is not None else None


def _set_holder(request: EnrolmentRequest, expected: User | None, new: User | None) -> bool:
    """Give the request to ``new`` if ``expected`` still holds it; False when someone was faster."""
    held_by = EnrolmentRequest.claimed_by_id
    result = db.session.execute(
        db.update(EnrolmentRequest)
        .where(EnrolmentRequest.id == request.id,
               held_by.is_(None) if expected is None else held_by == expected.id)
        .values(claimed_by_id=new.id if new is not None else None,
                claimed_at=clock.now() if new is not None else None)
        .execution_options(synchronize_session=False))
    db.session.expire(request, ["claimed_by_id", "claimed_at", "claimed_by"])
    return result.rowcount == 1
