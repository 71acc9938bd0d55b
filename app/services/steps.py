"""Submitting a user-task form: one transaction per step.

The uploaded files are checked and kept first (a valid file is never lost because another field is
wrong). Then the form is validated, the task completed, the engine run and the state saved inside a
savepoint: if anything fails there, the step leaves no trace (no number, no mail, no state change)
and the user is told, with what they typed still on the page.
"""
import logging
from dataclasses import dataclass

from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..engine import EngineFailure, Run, TaskNotReady
from ..extensions import db

log = logging.getLogger(__name__)

STALE = ("Cette étape a déjà été enregistrée, par exemple depuis un autre onglet ou par un double clic. "
         "La page affiche maintenant l'étape où en est votre demande.")
FAILED = ("Une erreur technique est survenue : cette étape n'a pas été enregistrée. "
          "Vos informations sont conservées ci-dessous ; veuillez réessayer dans quelques instants.")
INVALID = "Le formulaire contient des erreurs : corrigez les champs signalés puis validez de nouveau."


@dataclass
class Outcome:
    status: int                 # HTTP status to answer with when not redirecting
    done: bool = False          # the step moved (forward or back): redirect to the current step
    message: str | None = None  # alert shown above the form
    stale: bool = False         # the form was for a task that is no longer ready: show the new one


def submit(request, run: Run, task, form, *, posted_task_id: str, going_back: bool, lane: str,
           actor: str) -> Outcome:
    if posted_task_id != task.id:
        return Outcome(409, message=STALE, stale=True)
    form.save_uploads(actor)
    if going_back:
        run.go_back(task.id, lane, draft=form.draft_data())
        return _save(request, run)
    if not form.validate():
        db.session.commit()  # keep the files that were accepted
        return Outcome(422, message=INVALID)
    try:
        with db.session.begin_nested():
            run.complete(task.id, lane, form.task_data())
            _touch(request, run)
    except (StaleDataError, TaskNotReady):
        db.session.rollback()
        return Outcome(409, message=STALE, stale=True)
    except EngineFailure as failure:
        log.exception("step %s of request %s failed in %s", task.bpmn_id, request.public_id, failure.task_name)
        db.session.commit()  # the step is rolled back; the accepted files are kept
        return Outcome(500, message=FAILED)
    db.session.commit()
    return Outcome(303, done=True)


def _touch(request, run: Run) -> None:
    run.save()
    request.updated_at = clock.now()
    db.session.flush()  # the instance's version check happens here


def _save(request, run: Run) -> Outcome:
    try:
        _touch(request, run)
    except StaleDataError:
        db.session.rollback()
        return Outcome(409, message=STALE, stale=True)
    db.session.commit()
    return Outcome(303, done=True)
