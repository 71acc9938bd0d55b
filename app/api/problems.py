"""Errors of the API as RFC 9457 problem details (``application/problem+json``), in French.

The HTML pages keep their error pages (app/web/errors.py asks ``wanted()`` first): only a request
under the API's prefix gets a problem document, whatever raised the error (a view, the routing,
the rate limiter, an unexpected exception)."""
import marshmallow as ma
from flask import jsonify, request
from werkzeug.exceptions import HTTPException

PREFIX = "/api/"
CONTENT_TYPE = "application/problem+json"

#: status → (slug of its ``type``, French title, default detail).
KINDS = {
    400: ("requete-incorrecte", "Requête incorrecte", "La requête n'a pas pu être comprise."),
    401: ("authentification-requise", "Authentification requise",
          "Un jeton d'API valide est requis : en-tête « Authorization: Bearer segur_… ». Un jeton révoqué "
          "ou inconnu est refusé ; une session du portail (cookie) ne vaut pas authentification."),
    403: ("acces-refuse", "Accès refusé", "Ce jeton d'API ne permet pas cette opération."),
    404: ("introuvable", "Ressource introuvable", "La ressource demandée n'existe pas ou n'est pas accessible."),
    405: ("methode-non-autorisee", "Méthode non autorisée", "Cette méthode HTTP n'est pas possible sur cette adresse."),
    406: ("non-acceptable", "Format non disponible", "Le format de réponse demandé n'est pas disponible."),
    413: ("trop-volumineux", "Envoi trop volumineux", "Le contenu envoyé dépasse la taille autorisée."),
    415: ("type-non-supporte", "Type de contenu non supporté", "Le type du contenu envoyé n'est pas accepté."),
    416: ("plage-invalide", "Plage non satisfaisable", "La plage d'octets demandée est hors du fichier."),
    422: ("donnees-invalides", "Données invalides", "Certains paramètres sont invalides : voir « errors »."),
    429: ("trop-de-requetes", "Trop de requêtes",
          "Ce jeton a fait trop de requêtes en peu de temps : réessayez plus tard (voir l'en-tête Retry-After)."),
    500: ("erreur-technique", "Erreur technique",
          "Une erreur technique est survenue. Réessayez dans quelques instants ; si le problème persiste, "
          "contactez l'assistance."),
}


def wanted() -> bool:
    """Whether the current request is an API call (its errors are problem documents)."""
    return request.path.startswith(PREFIX)


def type_uri(status: int) -> str:
    return f"urn:segur:probleme:{KINDS.get(status, KINDS[500])[0]}"


def response(error: HTTPException | int, detail: str | None = None, errors: dict | None = None):
    """The problem document for ``error`` (an HTTP exception or a status): the view's own French
    message when it gave one (``abort(404, message="…")``), the status's default otherwise; field
    errors (webargs' messages, or ``errors``) under « errors »."""
    status = error if isinstance(error, int) else (error.code or 500)
    slug, title, default = KINDS.get(status, (f"http-{status}", f"Erreur {status}", f"Erreur HTTP {status}."))
    data = getattr(error, "data", None) or {}
    errors = errors or data.get("errors") or data.get("messages")
    detail = detail or data.get("message")  # Werkzeug's own descriptions are in English: not shown
    body = {"type": f"urn:segur:probleme:{slug}", "title": title, "status": status,
            "detail": detail or default, "instance": request.path}
    if errors:
        body["errors"] = _flatten(errors)
    reply = jsonify(body)
    reply.status_code = status
    reply.mimetype = CONTENT_TYPE
    headers = data.get("headers") or (error.get_headers() if isinstance(error, HTTPException) else [])
    for name, value in dict(headers).items():
        if name.lower() not in ("content-type", "content-length"):
            reply.headers[name] = value
    if status == 401:
        reply.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return reply


def _flatten(errors: dict) -> dict:
    """webargs groups field errors by location (``{"query": {"limit": [...]}}``): the fields only."""
    flat = {}
    for key, value in errors.items():
        if key in ("query", "form", "files", "json", "path", "headers") and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return flat


class ProblemSchema(ma.Schema):
    """An error (RFC 9457)."""

    type = ma.fields.String(required=True, metadata={"description": "L'identifiant (URN) du type de problème.",
                                                     "example": "urn:segur:probleme:introuvable"})
    title = ma.fields.String(required=True, metadata={"description": "Le titre du problème, en français.",
                                                      "example": "Ressource introuvable"})
    status = ma.fields.Integer(required=True, metadata={"description": "Le code de statut HTTP.", "example": 404})
    detail = ma.fields.String(required=True, metadata={"description": "L'explication, en français.",
                                                       "example": "Aucune demande ENR0999M0 accessible."})
    instance = ma.fields.String(required=True, metadata={"description": "Le chemin de la requête en erreur.",
                                                         "example": "/api/v1/demandes/ENR0999M0"})
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(),
                            metadata={"description": "Les erreurs par champ (paramètre ou fichier) : "
                                                     "une liste de messages en français pour chacun.",
                                      "example": {"limit": ["La limite est un entier de 1 à 100."]}})
