"""Document downloads: only for whoever may see the request (the one access choke point)."""
from flask import Blueprint, abort, request

from .. import access
from ..services import documents

bp = Blueprint("files", __name__)


@bp.get("/demandes/<public_id>/documents/<int:document_id>")
def download(public_id, document_id):
    """The document as an attachment; with ``?inline=1``, for display (previews of PDFs and images)."""
    enrolment = access.load_request(public_id)
    document = next((d for d in enrolment.documents if d.id == document_id), None)
    if document is None:
        abort(404)
    return documents.send(document, inline=request.args.get("inline") == "1")
