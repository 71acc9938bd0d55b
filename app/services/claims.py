"""Claims (« prise en charge »): an agent holds a request before deciding it, so that two agents
never decide the same request. Each change is one conditional UPDATE whose row count says whether
it won: of two agents claiming at once, exactly one does, whatever the database. The caller commits.

Whoever has the capability « instruct » may hold a request, for the tasks of their roles' lanes (an
agent's review, a supervisor's escalated one). Nobody takes a request whose waiting task they may
not do (separation of duties: they did the task it must be separated from); and when the request
now waits on a task its holder cannot do (it moved to another lane, or to a task separated from
them), someone who can takes it over.
"""
from .. import clock, roles
from ..engine import Run
from ..extensions import db
from ..models import EnrolmentRequest, User, UserRole
from . import audit


class ClaimError(Exception):
    """A claim, release or reassignment that cannot be done; the message is for the user."""

    @property
    def message(self) -> str:
        return self.args[0]


def assignable_agents() -> list[User]:
    """The active users a request may be given to, by name."""
    holder_roles = roles.current().table["instruct"]
    return db.session.scalars(db.select(User).where(
        User.active.is_(True),
        User.role.in_(holder_roles) | User.id.in_(db.select(UserRole.user_id).where(UserRole.role.in_(holder_roles))))
        .order_by(User.last_name, User.first_name, User.login)).all()


def claim(request: EnrolmentRequest, agent: User) -> None:
    """``agent`` takes the request, if nobody holds it (or its holder cannot do what it waits on)."""
    _check_holder(agent)
    run = Run.load(request.instance, request)
    refusal = _refusal(run, agent)
    if refusal:
        raise ClaimError(refusal)
    if _set_holder(request, None, agent):
        audit.record("Prise en charge", request, actor=agent)
        return
    holder = _holder(request)
    if holder is not None and holder.id == agent.id:
        raise ClaimError("Vous avez déjà pris en charge cette demande.")
    if holder is not None and may_take_over(run, holder, agent) and _set_holder(request, holder, agent):
        audit.record("Prise en charge", request, actor=agent,
                     reason=f"reprise à {_name(holder)}, qui ne peut pas faire l'étape en attente")
        return
    raise ClaimError(f"Cette demande est déjà prise en charge par {_name(holder)} : "
                     "vous ne pouvez pas la prendre en charge.")


def release(request: EnrolmentRequest, agent: User) -> None:
    """The holder (or an admin) gives the request back to the queue."""
    holder = _holder(request)
    if holder is None:
        raise ClaimError("Cette demande n'est prise en charge par personne.")
    if holder.id != agent.id and not _allowed(agent, "reassign"):
        raise ClaimError(f"Seul {_name(holder)}, qui a pris en charge cette demande, ou un administrateur "
                         "peut la libérer.")
    if not _set_holder(request, holder, None):
        raise ClaimError(_CHANGED)
    action = "Libération" if holder.id == agent.id else f"Libération (prise en charge par {_name(holder)})"
    audit.record(action, request, actor=agent)


def reassign(request: EnrolmentRequest, agent: User | None, by_admin: User) -> None:
    """An admin gives the request to ``agent``, whoever held it."""
    if not _allowed(by_admin, "reassign"):
        raise ClaimError("Seul un administrateur peut réattribuer une demande.")
    if agent is None or not _allowed(agent, "instruct") or not agent.active:
        raise ClaimError("Choisissez un gestionnaire actif à qui réattribuer la demande.")
    refusal = _refusal(Run.load(request.instance, request), agent, named=True)
    if refusal:
        raise ClaimError(refusal)
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
    if not _allowed(agent, "instruct") or not agent.active:
        raise ClaimError("Seul un gestionnaire peut prendre en charge une demande.")


def _allowed(user: User, capability: str) -> bool:
    return roles.current().allows(user.roles, capability)


def _task_of(run: Run, user: User):
    """The ready task of one of ``user``'s lanes, if any."""
    return run.ready_task_in(roles.current().lanes_of(user.roles))


def _refusal(run: Run, user: User, named: bool = False) -> str | None:
    """Why ``user`` may not do the task the request waits on in their lanes (separation of
    duties), in French, addressed to them (or, ``named``, naming them); None when they may, or
    when nothing waits on them."""
    task = _task_of(run, user)
    return run.separation_refusal(task, user.id, _name(user) if named else None) if task is not None else None


def _may_act(run: Run, user: User) -> bool:
    return _task_of(run, user) is not None and _refusal(run, user) is None


def may_take_over(run: Run, holder: User | None, user: User) -> bool:
    """Whether ``user`` may take the request from ``holder``: its waiting task is one ``user`` may
    do and ``holder`` may not (it was escalated to another lane, or is separated from them)."""
    return holder is not None and holder.id != user.id and _may_act(run, user) and not _may_act(run, holder)


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
