"""Filters and globals shared by every template."""
from flask import Blueprint, url_for

from .. import clock

bp = Blueprint("templating", __name__)


@bp.app_template_filter("date_fr")
def date_fr(moment):
    return clock.local(moment).strftime("%d/%m/%Y") if moment else ""


@bp.app_template_filter("datetime_fr")
def datetime_fr(moment):
    return clock.local(moment).strftime("%d/%m/%Y à %H:%M") if moment else ""


@bp.app_template_global()
def documents_by_id(request) -> dict:
    return {document.id: document for document in request.documents}


@bp.app_template_global()
def document_url(document) -> str:
    return url_for("files.download", public_id=document.request.public_id, document_id=document.id)
