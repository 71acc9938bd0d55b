"""Submitting a user-task form: one transaction per step.

The uploaded files are checked and kept first (a valid file is never lost because another field is
wrong). Then the form is validated, the task completed, the engine run and the state saved: a stale
or concurrent submission leaves no trace (undone in a savepoint when the transaction holds changes
to keep, such as those files; by a rollback of the whole transaction otherwise). When a task of the diagram fails
(a look-up service down, a handler error), what ran before it is kept and saved with the failed
task, an incident is opened (``incidents``) and the user is told that the processing is held up.

``submit`` only flushes: the view that calls it owns the transaction and commits whatever the
outcome (the accepted files are kept even when the form is refused; a stale submission is already
undone).
"""
import contextlib
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..engine import EngineFailure, Run, TaskNotReady
from ..extensions import db
from . import audit, enrolment, incidents, webhooks

STALE = ("Cette étape a déjà été enregistrée, par exemple depuis un autre onglet ou par un double clic. "
         "La page affiche maintenant l'étape où en est votre demande.")
INVALID = "Le formulaire contient des erreurs : corrigez les champs signalés puis validez de nouveau."


@dataclass
class Outcome:
    status: int                 # HTTP status to answer with when not redirecting
    done: bool = False          # the step moved (forward or back): redirect to the current step
    message: str | None = None  # alert shown above the form
    stale: bool = False         # the form was for a task that is no longer ready: show the new one
    success: bool = False       # ``message`` reports a success (an action that keeps the task open)


def submit(request, run: Run, task, form, *, posted_task_id: str, action: str, lane: str,
           actor: str, actor_id: int | None = None) -> Outcome:
    """Handle a posted form. ``action``: « back » (previous step), one of the form's
    ``local_actions`` (e.g. « import »: the task stays open) or of its ``completing_actions``.
    ``actor_id``: the account submitting (None when anonymous), for the separation of duties."""
    if posted_task_id != task.id:
        return Outcome(409, message=STALE, stale=True)
    if action not in ("back", *form.local_actions, *form.completing_actions):
        return Outcome(400, message=INVALID)
    form.action = action
    form.save_uploads(actor)
    if action == "back":
        run.go_back(task.id, lane, draft=form.draft_data())
        return _save(lambda: _touch(request, run))
    if action in form.local_actions:
        message = form.run_local_action(action, actor)
        return Outcome(200, message=message, success=True) if message else Outcome(422, message=INVALID)
    if not form.validate():
        return Outcome(422, message=INVALID)  # the files that were accepted are kept
    refusal = run.separation_refusal(task, actor_id)
    if refusal:
        return Outcome(403, message=refusal)
    failure = None

    def complete():
        nonlocal failure
        data = form.task_data()
        announced = form.event()  # queued first: the decision or the deposit, then the statuses it leads to
        if announced:
            webhooks.emit(announced[0], request, **announced[1])
        try:
            run.complete(task.id, lane, data, actor_id=actor_id)
        except EngineFailure as failed:  # keep the completed task and what ran up to the failure
            failure = failed
        enrolment.keep_added_values(request, {name: data.get(name) for name in form.extra_names})
        audited = form.audit()
        if audited:
            audit.record(audited[0], request, reason=audited[1])
        _touch(request, run)
        if failure is not None:
            incidents.record(request, failure, actor)

    return _save(complete)  # with an incident, the step page now says that the request waits


def _touch(request, run: Run) -> None:
    run.save()
    request.updated_at = clock.now()
    db.session.flush()  # the instance's version check happens here


def _save(change) -> Outcome:
    """Run ``change``: undone, and the step reported stale, when another submission got there
    first. In a savepoint when the transaction already wrote something that must stay; otherwise a
    rollback undoes it (a savepoint costs two statements and 5 % of a step)."""
    keep = _written(db.session)
    try:
        with db.session.begin_nested() if keep else contextlib.nullcontext():
            change()
    except (StaleDataError, TaskNotReady):
        if not keep:
            db.session.rollback()
        return Outcome(409, message=STALE, stale=True)
    return Outcome(303, done=True)


_WRITTEN = "steps.written"


def _written(session) -> bool:
    """Whether the session's transaction holds changes: pending, flushed or executed."""
    return bool(session.info.get(_WRITTEN) or session.new or session.dirty or session.deleted)


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    session.info[_WRITTEN] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state):
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WRITTEN] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction):
    if transaction.parent is None:  # the transaction itself, not a savepoint
        session.info.pop(_WRITTEN, None)
