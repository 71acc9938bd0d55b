"""The REST API's operations (``/api/v1``): thin views over access, listing, audit, documents and
referencing, like the pages'."""
from flask import current_app
from flask_smorest import Blueprint, abort
from werkzeug.exceptions import HTTPException

from .. import access
from ..extensions import csrf, db, limiter
from ..models import EnrolmentRequest
from ..models.api_token import WRITE
from ..services import audit, documents, listing, referencing, verdicts
from ..web.files import INLINE_TYPES, send
from . import auth, problems, schemas

bp = Blueprint("api", __name__, url_prefix="/api/v1",
               description="Les demandes d'enrôlement déposées et l'annuaire des référencements.")
bp.before_request(auth.authenticate)
csrf.exempt(bp)  # token authentication: no cookie, so no cross-site request to forge
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=auth.rate_limit_key)(bp)
# The statuses that app/web/errors.py does not handle for the whole app (401, 422…).
bp.register_error_handler(HTTPException, problems.response)


NUMBER = {"in": "path", "name": "number", "description": "Le numéro de la demande.",
          "schema": {"type": "string", "examples": ["ENR0601M0"]}}
DOCUMENT_ID = {"in": "path", "name": "document_id", "description": "L'identifiant du document (voir la liste "
               "des pièces justificatives).", "schema": {"type": "integer", "minimum": 0, "examples": [12]}}


def problem_responses(*statuses):
    """Document the problem documents an operation may answer (besides the default one)."""
    def decorator(view):
        for status in statuses:
            view = bp.alt_response(status, schema=problems.ProblemSchema, content_type=problems.CONTENT_TYPE,
                                   description=problems.KINDS[status][1])(view)
        return view
    return decorator


def _visible(number: str) -> EnrolmentRequest:
    found = db.session.scalar(access.visible_requests().where(EnrolmentRequest.number == number))
    if found is None:
        abort(404, message=f"Aucune demande déposée portant le numéro « {number[:40]} ».")
    return found


@bp.route("/demandes", methods=["GET"], tags=["Demandes"])
@bp.arguments(schemas.RequestFilters, location="query", as_kwargs=True)
@bp.response(200, schemas.RequestPageSchema)
@problem_responses(401, 422, 429)
def list_requests(cursor=None, limit=20, siret=None, deposited_from=None, deposited_to=None, **criteria):
    """Lister les demandes déposées

    Les plus récemment déposées d'abord (puis par identifiant décroissant : l'ordre est total), par pages
    de ``limit`` ; ``next_cursor`` donne la page suivante. Les brouillons ne sont jamais listés."""
    select = listing.Criteria(**criteria).apply(access.visible_requests())
    if siret:
        select = select.where(EnrolmentRequest.siret == siret)
    select = listing.deposited_between(select, deposited_from, deposited_to)
    if cursor:
        at, row_id = cursor
        select = select.where(listing.following(EnrolmentRequest.submitted_at, at, EnrolmentRequest.id, row_id,
                                                descending=True))
    rows = list(db.session.scalars(listing.newest_first(select).limit(limit + 1)))
    page = rows[:limit]
    more = len(rows) > limit
    return {"items": page, "next_cursor": schemas.Cursor.encode(page[-1].submitted_at, page[-1].id) if more else None}


@bp.route("/demandes/<number>", methods=["GET"], parameters=[NUMBER], tags=["Demandes"])
@bp.response(200, schemas.RequestSchema)
@problem_responses(401, 404, 429)
def read_request(number):
    """Lire une demande

    Par son numéro (ENRxxxxM0)."""
    return _visible(number)


@bp.route("/demandes/<number>/historique", methods=["GET"], parameters=[NUMBER], tags=["Demandes"])
@bp.response(200, schemas.HistoryLineSchema(many=True))
@problem_responses(401, 404, 429)
def request_history(number):
    """L'historique d'une demande

    Ses événements (processus) et les actions des agents, les plus anciens d'abord, comme la page
    d'instruction les montre."""
    return audit.for_request(_visible(number))


@bp.route("/demandes/<number>/documents", methods=["GET"], parameters=[NUMBER], tags=["Documents"])
@bp.arguments(schemas.DocumentFilters, location="query", as_kwargs=True)
@bp.response(200, schemas.DocumentSchema(many=True))
@problem_responses(401, 404, 422, 429)
def request_documents(number, current):
    """Les pièces justificatives d'une demande

    Leurs métadonnées et leur version, dans l'ordre de leur dépôt. Une pièce remplacée par un dépôt
    plus récent du même type reste listée (``current`` : false)."""
    versions = [version for chain in verdicts.chains(_visible(number)) for version in chain.versions
                if version.current or not current]
    return sorted(versions, key=lambda version: version.document.id)


@bp.route("/demandes/<number>/documents/<int:document_id>", methods=["GET"], parameters=[NUMBER, DOCUMENT_ID],
          tags=["Documents"])
@bp.doc(responses={"200": {"description": "Le fichier (pièce jointe).", "content": {
    media: {"schema": {"type": "string", "format": "binary"}} for media in INLINE_TYPES}}})
@problem_responses(401, 403, 404, 429)
def download_document(number, document_id):
    """Télécharger une pièce justificative

    Seulement un document sain (ni en attente d'analyse antivirus, ni infecté : 403 sinon)."""
    document = documents.filed_one(_visible(number), document_id)
    if document is None:
        abort(404, message=f"Aucun document {document_id} parmi les pièces de cette demande.")
    refusal = documents.download_refusal(document)
    if refusal:
        abort(403, message=refusal)
    return send(document)


@bp.route("/referentiel", methods=["POST"], tags=["Référentiel"])
@bp.arguments(schemas.ImportFileSchema, location="files")
@bp.response(200, schemas.ImportReportSchema)
@problem_responses(401, 403, 413, 422, 429)
def import_referencing(files):
    """Importer l'annuaire des référencements

    Crée ou met à jour chaque ligne (par numéro ANS), comme « flask referencing import » : tout ou rien,
    une ligne invalide et rien n'est écrit (422, chaque erreur dans « errors »). Jeton « lecture et
    écriture » requis."""
    auth.require_scope(WRITE)
    report = referencing.import_csv(files["file"].stream)
    if not report.ok:
        db.session.rollback()
        abort(422, message="Le fichier contient des erreurs : rien n'a été importé.",
              errors={"file": report.messages})
    db.session.commit()
    return report
