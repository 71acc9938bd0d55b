"""The REST API for integrators, ``/api/v1`` (flask-smorest): its OpenAPI 3.1 document, generated
from the views and schemas, is served at ``/api/v1/openapi.json``; its errors are problem documents
(problems.py); its callers authenticate with API tokens (auth.py)."""
from flask_smorest import Api

from .problems import CONTENT_TYPE, ProblemSchema

SETTINGS = {
    "API_TITLE": "Portail d'enrôlement Ségur — API intégrateurs",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {"description": "Lecture des demandes d'enrôlement déposées (comme les agents de l'Agence les "
                                "voient) et import de l'annuaire des référencements. Authentification : "
                                "« Authorization: Bearer segur_… », un jeton d'API créé par un administrateur "
                                "(page « Jetons d'API »). Erreurs : RFC 9457 (application/problem+json)."},
        "security": [{"jeton": []}],
        "components": {"securitySchemes": {"jeton": {
            "type": "http", "scheme": "bearer",
            "description": "Un jeton d'API « segur_… » (portée lecture, ou lecture et écriture)."}}},
    },
}


class _Api(Api):
    """Errors are handled by app/web/errors.py (problem documents under /api, pages elsewhere),
    not by flask-smorest's app-wide JSON handler; every operation documents them as problems."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, {
            "description": "Une erreur (RFC 9457), décrite en français.",
            "content": {CONTENT_TYPE: {"schema": ProblemSchema}}}, lazy=True)

    def _register_pagination_header(self):
        pass  # the API pages by cursor (views.list_requests), not by flask-smorest's page numbers


def install(app) -> None:
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    from . import views
    _Api(app).register_blueprint(views.bp)
