"""Public pages of the portal: home, frequently asked questions and legal pages."""
from flask import Blueprint, current_app, render_template

from ..package import statuses

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template("public/home.html")


@bp.get("/aide/questions-frequentes")
def faq():
    # The statuses' meanings are process data: analysts change them in « Processus » › « Statuts ».
    return render_template("public/faq.html", statuses=statuses.current().submitted)


@bp.get("/accessibilite")
def accessibility():
    return render_template("public/accessibility.html")


@bp.get("/mentions-legales")
def legal_notice():
    return render_template(
        "public/legal_notice.html",
        draft_max_age_hours=current_app.config.get("DRAFT_MAX_AGE_HOURS"),
    )


@bp.get("/cgu")
def terms():
    return render_template("public/terms.html")
