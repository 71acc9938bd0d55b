"""Public pages, DSFR layout, asset route, form macros and portal.js."""
import re
from types import SimpleNamespace

import pytest
from flask import flash, render_template, render_template_string, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from app.web.assets import allowed

DSFR_CSS = '<link rel="stylesheet" href="/assets/@gouvfr/dsfr/dist/dsfr.min.css">'

PAGES = [
    ("/", "Portail SEGUR Numérique"),
    ("/aide/questions-frequentes", "Questions fréquentes"),
    ("/accessibilite", "Déclaration d'accessibilité"),
    ("/mentions-legales", "Mentions légales"),
    ("/cgu", "Conditions générales d'utilisation"),
]


def html(response):
    return response.get_data(as_text=True)


# --- pages -------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, title", PAGES)
def test_public_page_layout(client, app, url, title):
    response = client.get(url)
    assert response.status_code == 200
    page = html(response)
    assert page.count("<h1") == 1
    assert f"<h1>{title}</h1>" in page
    assert '<html lang="fr" data-fr-scheme="system">' in page
    assert DSFR_CSS in page
    assert 'href="/assets/@gouvfr/dsfr/dist/utility/icons/icons.min.css"' in page
    assert '<script type="module" src="/assets/@gouvfr/dsfr/dist/dsfr.module.min.js">' in page
    assert '<script nomodule src="/assets/@gouvfr/dsfr/dist/dsfr.nomodule.min.js">' in page
    assert '<script src="/static/js/portal.js">' in page
    assert '<main id="contenu" role="main">' in page
    assert 'href="#contenu">Accéder au contenu</a>' in page
    # Header
    assert "République<br>Française" in page
    assert '<p class="fr-header__service-title">Portail SEGUR Numérique</p>' in page
    assert "Agence de services et de paiement</p>" in page
    assert f'href="{app.config["ASSISTANCE_URL"]}"' in page
    assert '<a class="fr-btn fr-icon-question-line" href="/aide/questions-frequentes">' in page
    # Footer
    for text in ("Agence du numérique en santé", "France Relance", "NextGenerationEU", "CNSA",
                 "l'Assurance Maladie", "legifrance.gouv.fr", "gouvernement.fr", "service-public.fr",
                 "data.gouv.fr", "©SEGURNUM 2026"):
        assert text in page
    for endpoint, label in (("public.accessibility", "Accessibilité"), ("public.legal_notice", "Mentions légales"),
                            ("public.terms", "CGU")):
        with app.test_request_context():
            href = url_for(endpoint)
        assert re.search(rf'href="{href}">{label}', page)
    assert "[url" not in page and "Lorem" not in page


def test_home_page_sections(client, app):
    page = html(client.get("/"))
    assert "Vous n'avez pas de compte ?" in page
    assert "Besoin d'aide ?" in page
    assert "Qu'est-ce que le Ségur du numérique en santé ?" in page
    assert "Qu'est-ce que le financement à l'équipement numérique des acteurs de l'offre de soins ?" in page
    assert "deux milliards d" in page
    with app.test_request_context():
        action, login = url_for("enrolment.start"), url_for("auth.login")
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    assert form and form.group(1) == action
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', form.group(2))
    assert "Effectuer ma demande d'enrôlement" in form.group(2)
    main = page.split("<main")[1].split("</main>")[0]  # the header has its own « Se connecter »
    assert f'href="{login}">Se connecter</a>' in main
    assert client.get(login).status_code == 200


def test_legal_pages_content(client):
    accessibility = html(client.get("/accessibilite"))
    assert "non conforme" in accessibility and "RGAA" in accessibility
    assert "Défenseur des droits" in accessibility and "Voie de recours" in accessibility
    notice = html(client.get("/mentions-legales"))
    assert "Hébergement" in notice and "Agence de services et de paiement, 2 rue du Maupas" in notice
    assert "Données personnelles" in notice and "72 heures" in notice
    terms = html(client.get("/cgu"))
    assert "441-7" in terms and "sincères et véritables" in terms and "Responsabilité" in terms
    faq = html(client.get("/aide/questions-frequentes"))
    for text in ("enrôlement initial", "enrôlement complémentaire", "enrôlement anticipé", "4 Mo",
                 "50 caractères", "Validation partielle", "dépositaire", "Contacter l'assistance"):
        assert text in faq


def test_flash_messages_are_dsfr_alerts(app):
    with app.test_request_context():
        flash("Demande abandonnée.", "info")
        flash("Erreur grave.", "error")
        page = render_template("public/faq.html")
    assert '<div class="fr-alert fr-alert--info fr-alert--sm fr-mb-2w">' in page
    assert '<div class="fr-alert fr-alert--error fr-alert--sm fr-mb-2w" role="alert">' in page
    assert "Demande abandonnée." in page and "Erreur grave." in page


# --- assets ------------------------------------------------------------------------------------

def test_asset_route_serves_dsfr(client):
    response = client.get("/assets/@gouvfr/dsfr/dist/dsfr.min.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "max-age" in response.headers["Cache-Control"]
    assert b".fr-header" in response.get_data()
    font = client.get("/assets/@gouvfr/dsfr/dist/fonts/Marianne-Regular.woff2")
    assert font.status_code == 200 and font.mimetype == "font/woff2"
    assert client.get("/assets/@gouvfr/dsfr/dist/dsfr.module.min.js").mimetype == "text/javascript"


@pytest.mark.parametrize("path", [
    "/assets/../package.json",
    "/assets/%2e%2e/package.json",
    "/assets/@gouvfr/dsfr/package.json",
    "/assets/@gouvfr/dsfr/dist/../package.json",
    "/assets/@gouvfr/dsfr/dist/%2e%2e/package.json",
    "/assets/@gouvfr/dsfr/src/core/index.js",
    "/assets/hash-wasm/package.json",
    "/assets/@gouvfr/dsfr/dist/missing.css",
])
def test_asset_route_refuses(client, path):
    assert client.get(path).status_code == 404


def test_asset_allowlist():
    assert allowed("@gouvfr/dsfr/dist/dsfr.min.css")
    assert allowed("altcha/dist/altcha.js")
    assert allowed("bpmn-js/dist/bpmn-modeler.development.js")
    for path in ("../package.json", "@gouvfr/dsfr/package.json", "@gouvfr/dsfr/dist/../package.json",
                 "/etc/passwd", "@gouvfr/dsfr/dist//dsfr.min.css", "@gouvfr/dsfr/dist/./dsfr.min.css",
                 "@gouvfr/dsfr/dist\\..\\package.json", "altcha/package.json", ""):
        assert not allowed(path), path


def test_static_files(client):
    script = client.get("/static/js/portal.js")
    assert script.status_code == 200
    assert "javascript" in script.mimetype
    body = html(script)
    assert "data-show-if" in body and "data-show-if-changed" in body and "data-initial" in body
    style = client.get("/static/css/portal.css")
    assert style.status_code == 200 and style.mimetype == "text/css"


# --- macros ------------------------------------------------------------------------------------

class DemoForm(FlaskForm):
    name = StringField("Nom du représentant", validators=[DataRequired("Saisissez le nom du représentant.")])
    email = EmailField("Email du représentant", validators=[Optional()])
    comment = TextAreaField("Commentaire")
    legal = RadioField("Je suis le représentant légal", choices=[SelectChoice("oui", "Oui"), SelectChoice("non", "Non")],
                       validators=[InputRequired("Indiquez si vous êtes le représentant légal.")])
    vat = SelectField("Taux TVA", choices=[SelectChoice("20", "20 %"), SelectChoice("10", "10 %")],
                      validators=[DataRequired("Choisissez le taux de TVA.")])
    cgu = BooleanField("J'ai lu et j'accepte les CGU\nDeuxième ligne",
                       validators=[DataRequired("Vous devez accepter les CGU.")])
    rib = FileField("RIB", validators=[FileRequired("Déposez votre RIB.")])


STEPS = [SimpleNamespace(number=n, title=t) for n, t in
         enumerate(["Référencement", "Demandeur", "Coordonnées bancaires", "Taux TVA", "Confirmation"], 1)]


def render_macros(app, source, data=None, **context):
    with app.test_request_context("/", method="POST", data=data or {}):
        form = DemoForm(meta={"csrf": False})
        if data is not None:
            form.validate()
        return render_template_string('{% import "macros/dsfr.html" as dsfr %}' + source, form=form, **context)


def test_input_macro(app):
    page = render_macros(app, '{{ dsfr.input(form.name, hint="Tel que sur la pièce d\'identité", '
                              'attrs={"data-show-if": "legal=non"}) }}', data={})
    assert '<div class="fr-input-group fr-input-group--error" id="name-group" data-show-if="legal=non">' in page
    assert '<label class="fr-label" for="name">Nom du représentant *<span class="fr-hint-text">' in page
    assert 'class="fr-input"' in page and 'aria-describedby="name-messages"' in page
    assert 'aria-invalid="true"' in page and 'aria-required="true"' in page
    assert " required" not in page
    assert '<p class="fr-error-text" id="name-error">Saisissez le nom du représentant.</p>' in page

    page = render_macros(app, '{{ dsfr.input(form.email, readonly=True, autocomplete="email") }}'
                              '{{ dsfr.input(form.comment) }}{{ dsfr.input(form.name, type="tel") }}')
    assert 'fr-input-group--readonly' in page and " readonly " in page and 'autocomplete="email"' in page
    assert 'type="email"' in page and "Email du représentant</label>" in page
    assert '<textarea aria-describedby="comment-messages" class="fr-input" id="comment" name="comment">' in page
    assert 'type="tel"' in page and "fr-error-text" not in page


def test_radios_macro(app):
    page = render_macros(app, '{{ dsfr.radios(form.legal, hint="Aide", attrs={"data-show-if": "x=1"}) }}', data={})
    assert '<fieldset class="fr-fieldset fr-fieldset--error" id="legal" role="group" ' \
           'aria-labelledby="legal-legend legal-messages" data-show-if="x=1">' in page
    assert re.search(r'id="legal-legend">\s*Je suis le représentant légal \*<span class="fr-hint-text">Aide</span>', page)
    assert page.count('class="fr-fieldset__element fr-fieldset__element--inline"') == 2
    assert '<input type="radio" id="legal-1" name="legal" value="non">' in page
    assert '<p class="fr-message fr-message--error" id="legal-error">' in page

    page = render_macros(app, '{{ dsfr.radios(form.legal, inline=False) }}', data={"legal": "non"})
    assert "fr-fieldset__element--inline" not in page and "fr-fieldset--error" not in page
    assert '<input type="radio" id="legal-1" name="legal" value="non" checked>' in page


def test_select_macro(app):
    page = render_macros(app, '{{ dsfr.select(form.vat) }}', data={})
    assert '<div class="fr-select-group fr-select-group--error" id="vat-group">' in page
    assert '<option value="" selected disabled>Choisir une option</option>' in page
    assert 'Taux TVA *</label>' in page and 'id="vat-error">Choisissez le taux de TVA.</p>' in page
    page = render_macros(app, '{{ dsfr.select(form.vat) }}', data={"vat": "10"})
    assert "Choisir une option" not in page and '<option value="10" selected>10 %</option>' in page


def test_checkbox_macro(app):
    page = render_macros(app, '{{ dsfr.checkbox(form.cgu, attrs={"data-x": "1"}) }}', data={})
    assert '<div class="fr-checkbox-group fr-checkbox-group--error" id="cgu-group" data-x="1">' in page
    assert "les CGU<br>Deuxième ligne *</label>" in page
    assert 'id="cgu-error">Vous devez accepter les CGU.</p>' in page
    page = render_macros(app, '{% call dsfr.checkbox(form.cgu) %}J\'accepte les <a href="/cgu">CGU</a>{% endcall %}',
                         data={"cgu": "y"})
    assert 'J\'accepte les <a href="/cgu">CGU</a> *</label>' in page and "checked" in page
    assert "fr-message--error" not in page


def test_upload_macro(app):
    existing = SimpleNamespace(original_name="rib-2026.pdf")
    page = render_macros(app, '{{ dsfr.upload(form.rib, existing=existing, attrs={"data-show-if-changed": "name"}) }}',
                         data={}, existing=existing)
    assert '<div class="fr-upload-group fr-upload-group--error" id="rib-group" data-show-if-changed="name">' in page
    assert 'accept=".png,.jpg,.jpeg,.pdf"' in page and 'class="fr-upload"' in page and 'type="file"' in page
    assert "Taille maximale : 4 Mo. Formats supportés : jpg, jpeg, png, pdf. Le nom du fichier ne doit pas " \
           "excéder 50 caractères et ne doit pas contenir de caractères spéciaux." in page
    assert "Fichier déposé : rib-2026.pdf" in page and "remplacera le fichier déposé" in page
    assert 'id="rib-error">Déposez votre RIB.</p>' in page and " required" not in page
    page = render_macros(app, '{{ dsfr.upload(form.rib, hint="Le RIB du compte") }}')
    assert "Fichier déposé" not in page and "Le RIB du compte" in page and "RIB *</label>" in page and 'id="rib-hint">Le RIB du compte</p>' in page


def test_display_macros(app):
    page = render_macros(app, '{{ dsfr.readonly("Nom du logiciel", "LOGICIEL HOP-DPI") }}'
                              '{{ dsfr.readonly("Extension", None) }}{{ dsfr.readonly("Assujetti", False) }}'
                              '{{ dsfr.stepper(steps, steps[1]) }}{{ dsfr.alert("success", "Enregistré", "Merci.") }}'
                              '{% call dsfr.alert("warning") %}<p>Attention <strong>riche</strong></p>{% endcall %}',
                         steps=STEPS)
    assert "Nom du logiciel&nbsp;:</span>" in page and "LOGICIEL HOP-DPI" in page
    assert "Non renseigné" in page and ">Non</span>" in page
    assert re.search(r'<h2 class="fr-stepper__title">\s*Demandeur\s*<span class="fr-stepper__state">Étape 2 sur 5</span>', page)
    assert 'data-fr-current-step="2" data-fr-steps="5"' in page
    assert re.search(r"Étape suivante :</span> Coordonnées bancaires", page)
    assert '<div class="fr-alert fr-alert--success">' in page and '<h3 class="fr-alert__title">Enregistré</h3>' in page
    assert '<div class="fr-alert fr-alert--warning fr-alert--sm">' in page and "<strong>riche</strong>" in page
    last = render_macros(app, '{{ dsfr.stepper(steps, steps[4]) }}', steps=STEPS)
    assert "Étape 5 sur 5" in last and "Étape suivante" not in last


def test_errors_summary_and_buttons(app):
    page = render_macros(app, '{{ dsfr.errors_summary(form) }}', data={})
    assert '<h2 class="fr-alert__title">Le formulaire contient des erreurs</h2>' in page
    assert 'data-errors-summary' in page
    assert '<a href="#name">Nom du représentant</a> : Saisissez le nom du représentant.' in page
    assert '<a href="#legal">' in page and '<a href="#rib">RIB</a>' in page
    assert "Deuxième ligne" not in page
    assert render_macros(app, '{{ dsfr.errors_summary(form) }}').strip() == ""

    page = render_macros(app, '{{ dsfr.button("Etape précédente", name="_action", value="back", kind="secondary", '
                              'icon="fr-icon-arrow-left-line") }}'
                              '{{ dsfr.button("Etape suivante", name="_action", value="next", icon="fr-icon-arrow-right-line") }}'
                              '{{ dsfr.button("Quitter sans enregistrer", kind="tertiary", icon="fr-icon-close-circle-line", '
                              'attrs={"href": "/quitter"}) }}'
                              '{{ dsfr.buttons_group([{"label": "Terminer", "name": "_action", "value": "finish"}]) }}')
    assert '<button type="submit" class="fr-btn fr-btn--secondary fr-icon-arrow-left-line fr-btn--icon-left" ' \
           'name="_action" value="back">Etape précédente</button>' in page
    assert 'class="fr-btn fr-icon-arrow-right-line fr-btn--icon-right" name="_action" value="next"' in page
    assert '<a class="fr-btn fr-btn--tertiary fr-icon-close-circle-line fr-btn--icon-left" href="/quitter">' in page
    assert '<ul class="fr-btns-group fr-btns-group--inline-md fr-btns-group--icon-left">' in page
    assert '<li><button type="submit" class="fr-btn" name="_action" value="finish">Terminer</button></li>' in page
