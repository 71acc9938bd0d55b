"""Document downloads: only for whoever may see the request (the one access choke point)."""
from flask import Blueprint, abort

from .. import access
from ..services import documents

bp = Blueprint("files", __name__)


@bp.get("/demandes/<public_id>/documents/<int:document_id>")
def download(public_id, document_id):
    request = access.load_request(public_id)
    document = next((d for d in request.documents if d.id == document_id), None)
    if document is None:
        abort(404)
    return documents.send(document)
