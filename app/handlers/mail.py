"""The mail service task: queue a mail of the process package (a template of context « demande »,
whose variables are declared in ``app/package/mails.py``) for the request's account holder."""
from flask import current_app

from .. import clock
from ..package import document_types, mails, statuses
from ..services import accounts, outbox
from ..engine.registry import Param, handler


#: Mails that ask for documents (a new round of the supporting-documents loop, or its reminder):
#: they carry a new personal deposit link when the account holder has no account to log in with
#: (``deposit_link``, ``deposit_expires_at``; ``deposit_link`` is None otherwise), and cancel the
#: earlier ones (a link is stored hashed: it cannot be sent twice).
DEPOSIT_REQUESTS = ("demande_pieces", "relance_pieces")


@handler("mail.send", "Envoi d'un courriel",
         Param("template", "Modèle de courriel (code, voir « Courriels »)", options=mails.options))
def send(ctx, template):
    request = ctx.request
    if not request.holder_email:
        raise ValueError("la demande n'a pas d'adresse de titulaire de compte")
    decision = ctx.data  # what the last agent decision said, when the mail follows one
    context = {
        "number": request.number, "siret": request.siret, "submitted_at": request.submitted_at,
        "status": statuses.of(request.status).supplier_label, "enrolment_type": request.enrolment_type, "data": request.data,
        "ans_number": request.ans_number, "company_name": request.company_name,
        "is_dpi": request.is_sons_dpi,
        "reason": decision.get("reason") or "", "message": decision.get("message") or "",
        "requested_types": [document_types.label(code) for code in decision.get("requested_types") or []],
        "assistance_url": current_app.config["ASSISTANCE_URL"],
        "portal_url": current_app.config["PORTAL_URL"],
    }
    link = accounts.deposit_link(request) if template in DEPOSIT_REQUESTS else None
    context |= {"deposit_link": link and link.url, "deposit_expires_at": link and clock.datetime_fr(link.expires_at)}
    mail = outbox.enqueue(template, request.holder_email, context, request=request)
    return {"template": template, "recipient": mail.recipient}
