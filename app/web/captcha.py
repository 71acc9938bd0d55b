"""The ALTCHA challenge, fetched by the ``<altcha-widget>`` of forms with a ``CaptchaField``."""
from flask import Blueprint, jsonify

from ..extensions import csrf
from ..services import captcha

bp = Blueprint("captcha", __name__)


@bp.get("/captcha/challenge")
@csrf.exempt  # a GET, not checked anyway; said for the record
def challenge():
    response = jsonify(captcha.new_challenge())
    response.headers["Cache-Control"] = "no-store"
    return response
