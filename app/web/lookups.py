"""Look-ups for the live filling of forms (JSON): the bank's name for the « Domiciliation » field."""
from flask import Blueprint, jsonify, request

from ..services import bank

bp = Blueprint("lookups", __name__)


@bp.get("/api/banque")
def bank_lookup():
    """``?iban=…&bic=…`` → ``{"domiciliation", "known", "errors": {"iban"?, "bic"?, "consistency"?}}``.

    Only what was typed is judged: an empty field is not reported while the user is still typing.
    """
    iban, bic = request.args.get("iban", ""), request.args.get("bic", "")
    result = bank.check(iban, bic)
    errors = {}
    if iban.strip() and result.iban_error:
        errors["iban"] = result.iban_error
    if bic.strip() and result.bic_error:
        errors["bic"] = result.bic_error
    if result.consistency_error:
        errors["consistency"] = result.consistency_error
    response = jsonify({"domiciliation": result.domiciliation, "known": result.known, "errors": errors})
    response.headers["Cache-Control"] = "no-store"
    return response
