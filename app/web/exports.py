"""The download of a list's export (app/services/exports.py), for the views of the lists."""
from flask import Response, stream_with_context

from ..services import exports


def download(extension: str, select, staff: bool, runs=()) -> Response:
    """A streamed attachment « demandes-<today>.<extension> »: the rows are read and sent as they
    are written, within this request's context (its database session and user)."""
    response = Response(stream_with_context(exports.chunks(extension, select, staff, runs)),
                        content_type=exports.MIMETYPES[extension])
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.file_name(extension)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
