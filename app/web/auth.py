"""Logging in (« Accéder à mon espace personnel ») and out, forgotten identifiant or password, and
choosing a password through a single-use link. The rules live in app/services/accounts.py."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from forms.accounts import ForgottenLoginForm, ForgottenPasswordForm, LoginForm, NewPasswordForm

from .. import access
from ..extensions import db, limiter
from ..services import accounts

bp = Blueprint("auth", __name__)

#: Where each role lands after logging in (staff: the requests to instruct).
SUPPLIER_LANDING = "/espace"
STAFF_LANDING = "/gestion/demandes"

NON_REVEALING = {
    "login": "Si un compte correspond à l'adresse électronique saisie, un courriel contenant votre identifiant "
             "va y être envoyé dans quelques minutes. Pensez à consulter vos courriers indésirables (spams).",
    "password": "Si un compte correspond à l'identifiant saisi, un courriel contenant un lien pour choisir un "
                "nouveau mot de passe va être envoyé à son adresse électronique dans quelques minutes. Pensez à "
                "consulter vos courriers indésirables (spams).",
}


def landing(user) -> str:
    return SUPPLIER_LANDING if access.can("supplier_space", user) else STAFF_LANDING


def local_target(target: str | None) -> str | None:
    """``target`` when it is a path of this portal (never another site: no scheme, no host, no
    ``//`` or ``\\`` that a browser would read as a host, no control characters)."""
    if (not target or not target.startswith("/") or target.startswith(("//", "/\\"))
            or "\\" in target or any(ord(c) < 0x20 or c == "\x7f" for c in target)):
        return None
    return target


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    next_url = local_target(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or landing(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = accounts.authenticate(form.login.data, form.password.data, request.remote_addr)
        db.session.commit()  # the failure recorded, or the successful login's bookkeeping
        if result.user is not None:
            session.clear()  # a new session on login: nothing of the anonymous one survives
            login_user(result.user)
            return redirect(next_url or landing(result.user), code=302)
        error = result.error
    return render_template("auth/login.html", form=form, error=error, next_url=next_url)


@bp.post("/deconnexion")
def logout():
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("public.home"), code=303)


def rate_limited(field: str):
    """The « J'ai oublié » forms' limits on POST: FORGOTTEN_LIMIT_PER_ADDRESS per client address and
    FORGOTTEN_LIMIT_PER_ACCOUNT per value typed in ``field`` (normalised); beyond, HTTP 429 (French
    page, app/web/errors.py) and nothing is recorded."""
    def decorator(view):
        per_address = limiter.limit(lambda: current_app.config["FORGOTTEN_LIMIT_PER_ADDRESS"], methods=["POST"])
        per_account = limiter.limit(lambda: current_app.config["FORGOTTEN_LIMIT_PER_ACCOUNT"], methods=["POST"],
                                    key_func=lambda: "compte:" + accounts.forgotten_key(request.form.get(field)))
        return per_address(per_account(view))
    return decorator


@bp.route("/identifiant-oublie", methods=["GET", "POST"])
@rate_limited("email")
def forgotten_login():
    form = ForgottenLoginForm()
    if form.validate_on_submit():
        accounts.record_forgotten(accounts.FORGOTTEN_LOGIN, form.email.data)
        db.session.commit()
        flash(NON_REVEALING["login"], "info")
        return redirect(url_for(".login"), code=303)
    return render_template("auth/forgotten_login.html", form=form)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@rate_limited("login")
def forgotten_password():
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        accounts.record_forgotten(accounts.FORGOTTEN_PASSWORD, form.login.data)
        db.session.commit()
        flash(NON_REVEALING["password"], "info")
        return redirect(url_for(".login"), code=303)
    return render_template("auth/forgotten_password.html", form=form)


@bp.route(accounts.PASSWORD_PATH + "<token>", methods=["GET", "POST"])
def choose_password(token):
    link = accounts.valid_link(token)
    if link is None:
        return render_template("auth/link_invalid.html"), 410
    form = NewPasswordForm(link.user)
    if form.validate_on_submit():
        user = accounts.use_link(token, form.password.data)
        if user is None:  # spent meanwhile (another tab)
            db.session.rollback()
            return render_template("auth/link_invalid.html"), 410
        db.session.commit()
        flash(f"Votre mot de passe a été enregistré. Vous pouvez vous connecter avec votre identifiant "
              f"{user.login}.", "success")
        return redirect(url_for(".login"), code=303)
    return render_template("auth/new_password.html", form=form, user=link.user)
