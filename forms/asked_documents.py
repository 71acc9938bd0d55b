"""Documents a user task asks for by its ``documentTypes`` property (an expression on task data
giving a list of document type codes, e.g. ``['kbis'] + (['attestation_dsr'] if referencing['dsr']
== 'X' else [])``): one required document field per type, added to whatever form the task names
(``forms.EXTENSIONS``), and the generic form of a task that asks only documents (``depot_pieces``).

The expression runs in the diagrams' restricted environment, on the task's data, each time the form
is built; its literal codes were checked at deployment (``app/package/document_types.py``). When it
fails, the step shows a French message instead of a form (``FormUnavailable``).
"""
import logging

from app.engine.scripting import RestrictedEnvironment, ScriptLimitExceeded
from app.package import document_types

from .base import REGISTRY, DocumentField, FormUnavailable, TaskForm, register

log = logging.getLogger(__name__)

UNAVAILABLE = ("La liste des pièces à déposer à cette étape n'a pas pu être établie ({reason}). "
               "Vos informations sont conservées ; réessayez plus tard ou contactez l'assistance.")


def _unavailable(task, reason: str) -> FormUnavailable:
    log.error("documentTypes of task %s failed: %s", task.bpmn_id, reason)
    return FormUnavailable(UNAVAILABLE.format(reason=reason))


def asked_types(task) -> list[document_types.DocumentType]:
    """The types the task's ``documentTypes`` property asks for, now (none without the property)."""
    expression = task.properties.get(document_types.PROPERTY, "").strip()
    if not expression:
        return []
    try:
        codes = RestrictedEnvironment().evaluate(expression, dict(task.data))
    except ScriptLimitExceeded as exc:
        raise _unavailable(task, exc.detail.rstrip(".")) from exc
    except Exception as exc:  # any error of the analyst's expression on this request's data
        log.error("documentTypes of task %s: %r", task.bpmn_id, exc)
        raise _unavailable(task, "l'expression qui la calcule est en erreur") from exc
    if not isinstance(codes, (list, tuple)) or not all(isinstance(c, str) for c in codes):
        raise _unavailable(task, "l'expression ne donne pas une liste de codes")
    known = document_types.current()
    unknown = [c for c in codes if c not in known or not known[c].requestable]
    if unknown:
        raise _unavailable(task, "type de document inconnu : " + ", ".join(unknown))
    return [known[c] for c in dict.fromkeys(codes)]


def field_name(code: str) -> str:
    """``doc_<code>``: the recap, the PDF and the filing of drafts read every ``doc_*`` value."""
    return f"doc_{code}"


def asked_documents(task, request) -> dict:
    """``forms.EXTENSIONS`` function: a required document field per asked type, except a type the
    task's form class already asks for under that name."""
    own = REGISTRY.get(task.form_key)
    return {field_name(t.code): DocumentField(kind=t.code) for t in asked_types(task)
            if own is None or not hasattr(own, field_name(t.code))}


@register("depot_pieces")
class DocumentsDepositForm(TaskForm):
    """A user task that only asks documents: no field of its own, its ``documentTypes`` gives them.
    Its documents are drafts until filed: by the submission in the enrolment diagrams, by a
    ``documents.file`` service task after it once the request is submitted (as for the certificates)."""
