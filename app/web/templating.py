"""Filters and globals shared by every template."""
from flask import Blueprint, url_for

from .. import clock
from ..package import statuses

bp = Blueprint("templating", __name__)


bp.add_app_template_filter(clock.date_fr, "date_fr")
bp.add_app_template_filter(clock.datetime_fr, "datetime_fr")
bp.add_app_template_global(statuses.of, "status")  # what a status code means: app/package/statuses.py


@bp.app_template_global()
def documents_by_id(request) -> dict:
    return {document.id: document for document in request.documents}


@bp.app_template_global()
def document_url(document) -> str:
    return url_for("files.download", public_id=document.request.public_id, document_id=document.id)
