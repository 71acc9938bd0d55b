"""Who calls the API: the integrator of an API token, never a portal session.

Every API call must carry ``Authorization: Bearer segur_…``. The token's integrator then acts with
the capability « see_requests » and nothing else (app/access.py): it reads what the agency's staff
read, every submitted request, through the same ``access.visible_requests()``. A write-scope token
may also import the referencing directory. A portal session cookie sent along is ignored: the
integrator replaces the session's user for the whole call, and nothing is written to the session."""
import hashlib
from dataclasses import dataclass

from flask import g, request
from flask_smorest import abort

from ..models import ApiToken
from ..services import api_tokens


@dataclass(frozen=True)
class Integrator:
    """The current user of an API call (what Flask-Login's ``current_user`` gives)."""

    token: ApiToken
    capabilities: frozenset = frozenset({"see_requests"})
    is_authenticated = True
    is_active = True
    is_anonymous = False
    roles: tuple = ()
    siret_list: tuple = ()
    id = None

    @property
    def display_name(self) -> str:
        return f"Intégrateur {self.token.integrator}"

    @property
    def login(self) -> str:
        return f"jeton {self.token.prefix}…"

    def get_id(self):
        return None


def presented_secret() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def rate_limit_key() -> str:
    """Calls are counted per presented secret (by its hash: the secret itself never reaches the
    limiter's storage), so that one integrator's burst does not slow down another."""
    secret = presented_secret() or request.remote_addr or ""
    return "api:" + hashlib.sha256(secret.encode()).hexdigest()[:32]


def authenticate() -> None:
    """Before every API view: the token's integrator becomes the current user; 401 otherwise."""
    secret = presented_secret()
    token = api_tokens.authenticate(secret) if secret else None
    if token is None:
        abort(401, message="Jeton d'API absent, inconnu ou révoqué : envoyez l'en-tête « Authorization: Bearer "
                   "segur_… » avec un jeton actif (une session du portail ne suffit pas).")
    g._login_user = Integrator(token)  # Flask-Login's current_user, without reading the session


def require_scope(scope: str) -> None:
    if not g._login_user.token.allows(scope):
        abort(403, message="Ce jeton d'API est en lecture seule : l'import de l'annuaire des référencements "
                   "demande un jeton « lecture et écriture ».")
