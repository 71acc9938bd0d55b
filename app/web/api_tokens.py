"""« Jetons d'API » (capability « integrations », admins): the integrators' API tokens, their
creation (the secret shown once) and revocation. The API itself: app/api/."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from forms.api_tokens import ApiTokenForm

from .. import access
from ..extensions import db
from ..models import ApiToken
from ..services import api_tokens, audit

bp = Blueprint("api_tokens", __name__, url_prefix="/gestion/jetons-api")


def _index(form: ApiTokenForm, created=None, status: int = 200):
    return render_template("api_tokens/index.html", form=form, tokens=api_tokens.listed(),
                           created=created), status


@bp.get("")
@access.require_capability("integrations")
def index():
    return _index(ApiTokenForm())


@bp.post("")
@access.require_capability("integrations")
def create():
    """The secret is in this response only (never stored, never redirected to)."""
    form = ApiTokenForm()
    if not form.validate():
        return _index(form, status=422)
    created = api_tokens.create(form.integrator.data, form.scope.data, form.description.data,
                                by=current_user._get_current_object())
    db.session.flush()
    audit.record(f"Jeton d'API {created.token.prefix}… créé pour « {created.token.integrator} » "
                 f"({created.token.scope_label.lower()})")
    db.session.commit()
    return _index(ApiTokenForm(formdata=None), created=created)


@bp.post("/revocation")
@access.require_capability("integrations")
def revoke():
    token = db.session.get(ApiToken, request.form.get("token", type=int) or 0) or abort(404)
    if api_tokens.revoke(token):
        audit.record(f"Jeton d'API {token.prefix}… de « {token.integrator} » révoqué")
        db.session.commit()
        flash(f"Le jeton {token.prefix}… de « {token.integrator} » est révoqué : l'API le refuse désormais.",
              "success")
    else:
        flash(f"Le jeton {token.prefix}… de « {token.integrator} » était déjà révoqué.", "info")
    return redirect(url_for(".index"), code=303)
