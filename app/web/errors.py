"""Error pages in French (never a stack trace); the API's errors are problem documents instead
(app/api/problems.py)."""
from flask import Blueprint, render_template
from flask_wtf.csrf import CSRFError

from ..api import problems

bp = Blueprint("errors", __name__)

MESSAGES = {
    400: ("Requête incorrecte", "La requête envoyée n'a pas pu être comprise."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "La page demandée n'existe pas ou n'est plus disponible. "
                              "Si vous aviez commencé une demande, elle a peut-être expiré ou été abandonnée."),
    405: ("Action non autorisée", "Cette action n'est pas possible sur cette page."),
    413: ("Envoi trop volumineux", "L'ensemble des fichiers envoyés est trop volumineux. "
                                   "Chaque fichier doit faire au plus 4 Mo."),
    429: ("Trop de demandes", "Vous avez fait trop de demandes en peu de temps. Par sécurité, cette demande "
                              "n'a pas été prise en compte : réessayez plus tard (dans une heure au plus)."),
    500: ("Erreur technique", "Une erreur technique est survenue. Veuillez réessayer dans quelques instants ; "
                              "si le problème persiste, contactez l'assistance."),
}


def _page(code: int, title: str, message: str):
    return render_template("errors/error.html", code=code, title=title, message=message), code


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    return _page(400, "Session expirée",
                 "Le formulaire a expiré ou n'a pas été envoyé depuis ce portail (jeton de sécurité absent "
                 "ou invalide). Revenez à la page précédente, rechargez-la puis renvoyez le formulaire.")


def _handler(code: int, title: str, message: str):
    def handle(error):
        return problems.response(error) if problems.wanted() else _page(code, title, message)
    return handle


for _code, (_title, _message) in MESSAGES.items():
    bp.app_errorhandler(_code)(_handler(_code, _title, _message))
