"""Service tasks of the enrolment: number, type, submission, status, recap PDF."""
from .. import clock
from ..models import STATUS_LINE, TYPES
from ..package import statuses
from ..engine.registry import Param, handler
from ..package import document_types
from ..services import documents, enrolment, pdf


@handler("enrolment.allocate_number", "Attribution du numéro de demande")
def allocate_number(ctx):
    return {"number": enrolment.allocate_number(ctx.request)}


@handler("enrolment.set_type", "Type d'enrôlement",
         Param("type", "Type d'enrôlement", choices=TYPES))
def set_type(ctx, type):
    ctx.request.enrolment_type = type
    return {"type": type}


@handler("enrolment.submit", "Enregistrement de la demande déposée")
def submit(ctx):
    enrolment.file_submission(ctx.request, ctx.data)
    enrolment.record(ctx.request, enrolment.account_holder(ctx.data)[0] or "", "Demande déposée")
    return {"submitted_at": ctx.request.submitted_at.isoformat()}


@handler("enrolment.set_status", "Changement de statut",
         Param("status", "Statut", options=statuses.options))
def set_status(ctx, status):
    """``status``: a status's code (a literal is checked at deployment; an expression's value here:
    an unknown one fails the task). Returns the status it replaced too, so that a diagram can come
    back to it later."""
    code = statuses.current().code_of(status)
    if code is None:
        raise ValueError(f"statut « {status} » inconnu : ce n'est le code d'aucun statut du paquet de processus")
    found = statuses.of(code)
    previous = ctx.request.status
    ctx.request.status = code
    ctx.request.status_changed_at = ctx.now
    if found.validation and ctx.request.validated_at is None:
        ctx.request.validated_at = ctx.now
    enrolment.record(ctx.request, "système", STATUS_LINE + found.agent_label)
    return {"status": code, "previous": previous}


@handler("enrolment.mark_overdue", "Signaler la demande en retard (dépôt attendu du fournisseur)")
def mark_overdue(ctx):
    ctx.request.overdue_since = ctx.request.overdue_since or ctx.now
    enrolment.record(ctx.request, "système", "Délai de dépôt dépassé : demande en retard")
    return {"overdue_since": ctx.request.overdue_since.isoformat()}


@handler("enrolment.clear_overdue", "Lever le retard de la demande")
def clear_overdue(ctx):
    ctx.request.overdue_since = None
    return {"overdue_since": None}


@handler("documents.file", "Classer les pièces déposées à l'étape précédente")
def file_documents(ctx):
    """The documents the supplier just deposited become part of the request; replaced ones go."""
    filed = documents.file_drafts(ctx.request, ctx.data)
    return {"filed": filed}


@handler("enrolment.recap_pdf", "PDF récapitulatif de la demande")
def recap_pdf(ctx):
    request = ctx.request
    filed = {d.id: d for d in request.documents}
    content = pdf.render_pdf("pdf/recap.html", request=request, data=request.data, documents=filed)
    stamp = clock.local(request.submitted_at or ctx.now).strftime("%Y%m%d%H%M%S")
    name = f"{request.number.removesuffix('M0')}_{stamp}.pdf"
    document = documents.store_generated(request, document_types.RECAP_PDF, name, content)
    return {"document_id": document.id, "label": document.label}
