"""Filters and globals shared by every template."""
from flask import Blueprint, url_for

from .. import access, clock
from ..package import statuses

bp = Blueprint("templating", __name__)


bp.add_app_template_filter(clock.date_fr, "date_fr")
bp.add_app_template_filter(clock.datetime_fr, "datetime_fr")
#: ``can("studio")``: the permissions table, for what a page offers (the views enforce it).
bp.add_app_template_global(access.can, "can")
bp.add_app_template_global(statuses.of, "status")  # what a status code means: app/package/statuses.py


@bp.app_template_global()
def documents_by_id(request) -> dict:
    return {document.id: document for document in request.documents}


@bp.app_template_global()
def extra_lines(request, data) -> list[tuple[str, str]]:
    """The recap lines of the fields the process package or the diagrams add (forms/extra.py)."""
    from forms import extra
    return extra.lines(request, data)


@bp.app_template_global()
def document_url(document) -> str:
    return url_for("files.download", public_id=document.request.public_id, document_id=document.id)
