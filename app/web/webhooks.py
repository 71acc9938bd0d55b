"""« Webhooks » (capability « integrations », admins): the endpoints that receive the requests'
events, their secret, their delivery log and « Renvoyer »."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from forms.webhooks import WebhookForm

from .. import access
from ..extensions import db
from ..models import WebhookDelivery, WebhookEndpoint
from ..services import listing, webhooks

bp = Blueprint("webhooks", __name__, url_prefix="/gestion/webhooks")

PER_PAGE = 50


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    return db.session.get(WebhookEndpoint, endpoint_id) or abort(404)


@bp.get("")
@access.require_capability("integrations")
def index():
    endpoints = db.session.scalars(db.select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return render_template("webhooks/index.html", endpoints=endpoints, events=webhooks.EVENTS,
                           counts=webhooks.counts(e.id for e in endpoints))


@bp.route("/nouveau", methods=["GET", "POST"])
@access.require_capability("integrations")
def create():
    form = WebhookForm()
    if not form.validate_on_submit():
        return render_template("webhooks/form.html", form=form, endpoint=None), 422 if form.is_submitted() else 200
    endpoint = webhooks.create(form.url.data, form.description.data or "", form.events.data,
                               current_user._get_current_object())
    db.session.commit()
    flash("Le webhook est enregistré. Copiez son secret maintenant et donnez-le au système destinataire : "
          "il vérifie avec lui la signature de chaque envoi.", "success")
    return _detail(endpoint, show_secret=True)


@bp.get("/<int:endpoint_id>")
@access.require_capability("integrations")
def detail(endpoint_id):
    return _detail(_endpoint(endpoint_id))


@bp.post("/<int:endpoint_id>/secret")
@access.require_capability("integrations")
def secret(endpoint_id):
    """« Afficher le secret »: shown in the answer to a POST (never in a URL), and audited."""
    endpoint = _endpoint(endpoint_id)
    webhooks.secret_shown(endpoint)
    db.session.commit()
    return _detail(endpoint, show_secret=True)


def _detail(endpoint: WebhookEndpoint, show_secret: bool = False):
    page = listing.paginate(webhooks.deliveries(endpoint), request.args.get("page"), PER_PAGE,
                            options=(selectinload(WebhookDelivery.request),))
    return render_template("webhooks/detail.html", endpoint=endpoint, page=page, events=webhooks.EVENTS,
                           show_secret=show_secret)


@bp.route("/<int:endpoint_id>/modifier", methods=["GET", "POST"])
@access.require_capability("integrations")
def edit(endpoint_id):
    endpoint = _endpoint(endpoint_id)
    form = WebhookForm(obj=endpoint)
    if not form.validate_on_submit():
        return render_template("webhooks/form.html", form=form, endpoint=endpoint), 422 if form.is_submitted() else 200
    webhooks.update(endpoint, form.url.data, form.description.data or "", form.events.data)
    db.session.commit()
    flash("Les modifications du webhook sont enregistrées : elles valent pour les prochains événements.", "success")
    return redirect(url_for(".detail", endpoint_id=endpoint.id), code=303)


@bp.post("/<int:endpoint_id>/activation")
@access.require_capability("integrations")
def activation(endpoint_id):
    endpoint = _endpoint(endpoint_id)
    active = request.form.get("active") == "1"
    webhooks.set_active(endpoint, active)
    db.session.commit()
    flash("Le webhook est réactivé : les envois en attente repartent." if active else
          "Le webhook est désactivé : il ne reçoit plus d'événements, ses envois en attente attendent sa "
          "réactivation.", "success")
    return redirect(url_for(".detail", endpoint_id=endpoint.id), code=303)


@bp.post("/<int:endpoint_id>/suppression")
@access.require_capability("integrations")
def delete(endpoint_id):
    endpoint = _endpoint(endpoint_id)
    url = endpoint.url
    webhooks.delete(endpoint)
    db.session.commit()
    flash(f"Le webhook {url} et son journal des envois sont supprimés.", "success")
    return redirect(url_for(".index"), code=303)


@bp.post("/<int:endpoint_id>/renvoi")
@access.require_capability("integrations")
def resend(endpoint_id):
    endpoint = _endpoint(endpoint_id)
    delivery_id = request.form.get("delivery", type=int)
    delivery = db.session.get(WebhookDelivery, delivery_id) if delivery_id else None
    if delivery is None or delivery.endpoint_id != endpoint.id:
        abort(404)
    webhooks.resend(delivery)
    db.session.commit()
    waits = "" if endpoint.active else " (il partira quand le webhook sera réactivé)"
    flash(f"L'envoi {delivery.message_id} ({webhooks.EVENTS.get(delivery.event, delivery.event)}) est remis dans la "
          f"file : il repart avec le même identifiant webhook-id{waits}.", "success")
    return redirect(url_for(".detail", endpoint_id=endpoint.id, page=request.form.get("page") or None,
                            _anchor=f"envoi-{delivery.id}"), code=303)
