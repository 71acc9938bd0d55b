"""Document downloads: only for whoever may see the request (the one access choke point), and
only once the antivirus (when on) has found the file clean; an earlier version of a document (a
newer one of its type was filed) only for the staff."""
from flask import Blueprint, abort, render_template, request, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from .. import access
from ..services import antivirus, documents, verdicts

bp = Blueprint("files", __name__)

#: Content types a browser may show inline (previews): the accepted ones, nothing else.
INLINE_TYPES = (documents.PDF, documents.PNG, documents.JPEG)


@bp.get("/demandes/<public_id>/documents/<int:document_id>")
def download(public_id, document_id):
    """The document as an attachment; with ``?inline=1``, for display (previews of PDFs and images)."""
    enrolment = access.load_request(public_id)
    document = next((d for d in enrolment.documents if d.id == document_id), None)
    if document is None or document.id in hidden_versions(enrolment):
        abort(404)
    refusal = documents.download_refusal(document)
    if refusal:
        return render_template("errors/error.html", code=403, title="Fichier indisponible",
                               message=refusal), 403
    return send(document, inline=request.args.get("inline") == "1")


def send(document, *, inline: bool = False):
    """The file as a download (or, with ``inline``, for display in a page of the portal: PDF and
    images only, anything else stays an attachment), never sniffed nor cached, streamed from the
    document storage (local folder or S3) in chunks, with ranges and « not modified » answers.
    The caller has checked that the current user may see it."""
    inline = inline and document.content_type in INLINE_TYPES
    stored = documents.open_stored(document)
    response = send_file(stored.file, mimetype=document.content_type, as_attachment=not inline,
                         download_name=document.original_name, etag=document.sha256,
                         last_modified=stored.modified, conditional=False)
    response.content_length = stored.size  # known before the first byte: ranges and 304s need it
    try:
        response = response.make_conditional(request, accept_ranges=True, complete_length=stored.size)
    except RequestedRangeNotSatisfiable:
        stored.file.close()
        raise
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if inline:  # shown only inside the portal's own pages, never framed by another site
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


@bp.app_template_global()
def hidden_versions(enrolment) -> set[int]:
    """The documents the current user may not see: earlier versions, unless they are staff."""
    return set() if access.can("see_requests") else verdicts.superseded_ids(enrolment)


@bp.app_template_global()
def antivirus_on() -> bool:
    return antivirus.enabled()
