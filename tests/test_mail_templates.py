"""Mail templates as process data: an analyst rewords a mail in the studio (« Courriels »), sees it
rendered with a sample request, « Vérifier » refuses what would break a mail, « Déployer » makes it
the wording of new requests while running ones keep the wording of their version; templates run in
Jinja's sandbox; ``flask bpmn export`` writes the files back as they were."""
import filecmp
import json

import pytest

from app import package
from app.extensions import db
from app.models import OutboxMail, PackageDraft
from journey import REPRESENTATIVE, Journey, Supplier
from studio import Analyst

EDITOR = "/processus/courriels"
NEW_WORDING = "Nous avons bien reçu votre demande {{ number }} : merci de votre confiance."


def editor(analyst, code):
    page = analyst.browser.get(f"{EDITOR}/{code}")
    assert page.status == 200, page.status
    return page


def preview(analyst, **fields):
    response = analyst.post(f"{EDITOR}/apercu", **fields)
    assert response.status_code == 200
    return response.get_json()


def check(analyst, back):
    """« Vérifier » from the editor: the flashed messages of the page it comes back to."""
    page = analyst.browser.post("/processus/paquet/verifier", {"csrf_token": [analyst.token], "next": [back]})
    assert page.url == back
    return [alert for alert in page.alerts() if alert]  # the preview's error box is empty


def test_a_reworded_acknowledgement_reaches_new_requests_only(portal, mailbox):
    analyst = Analyst(portal)
    running = Journey(portal.test_client(), Supplier())
    running.start()
    running.until("applicant")  # started on version 1, not submitted yet

    page = editor(analyst, "accuse_reception")
    assert page.h1.startswith("Accusé de réception de la demande")
    assert "Numéro de la demande d'enrôlement" in page.content  # the variables of its context, beside
    assert "Accusé de réception de votre demande d'enrôlement ENR0042M0" in page.content  # sample preview
    form = page.form("mail-form")
    text = form.values["text"][0]
    assert text.startswith("{#- Variables")
    form.fill(subject="Votre demande {{ number }} est bien arrivée",
              text='{% extends "_layout.txt" %}{% block body %}Bonjour,\n\n' + NEW_WORDING + "\n{% endblock %}\n",
              html='{% extends "_layout.html" %}{% block body %}<p>Bonjour,</p><p>' + NEW_WORDING + "</p>{% endblock %}")
    saved = form.submit("Enregistrer le brouillon")
    assert "Brouillon enregistré." in saved.alerts()
    with portal.app_context():
        assert package.current()["mails"].items["accuse_reception"]["text"] == text  # a draft only
    assert check(analyst, f"{EDITOR}/accuse_reception") == ["Le paquet de processus, avec vos brouillons, peut être déployé."]
    deployed = saved.form_with("Déployer").fill(comment="Accusé de réception plus court").submit("Déployer")
    assert "Paquet de processus version 2 déployé" in " ".join(deployed.alerts())

    running.complete()
    other = Supplier(ans_number="MSv2VIL014", siret="81245367800011",
                     representative={**REPRESENTATIVE, "email": "nouvelle.demande@fournisseur-sante.fr"})
    Journey(portal.test_client(), other).complete()

    old, = mailbox.to(Supplier().holder_email)
    new, = mailbox.to(other.holder_email)
    assert old["Subject"].startswith("Accusé de réception de votre demande d'enrôlement ENR")
    assert "a bien été réceptionnée par l'Agence" in mailbox.text(old)
    with portal.app_context():
        number = db.session.scalar(db.select(OutboxMail).where(OutboxMail.recipient == other.holder_email)).request.number
    assert new["Subject"] == f"Votre demande {number} est bien arrivée"
    body = mailbox.text(new)
    assert f"Nous avons bien reçu votre demande {number} : merci de votre confiance." in body
    assert "a bien été réceptionnée" not in body
    assert "L'Agence de services et de paiement." in body  # the shared layout, once for every mail
    assert f"<p>Nous avons bien reçu votre demande {number} : merci de votre confiance.</p>" in mailbox.html(new)


def test_the_preview_renders_unsaved_texts_with_a_sample_request_or_says_what_is_wrong(portal):
    analyst = Analyst(portal)
    shown = preview(analyst, code="rejet", context="demande", label="Rejet", subject="Rejet {{ number }}",
                    text="Motif : {{ reason }}\nDéposée le {{ submitted_at|date_fr }}.", html="<p>{{ message }} <b>{{ '<i>' }}</b></p>")
    assert shown == {"subject": "Rejet ENR0042M0",
                     "text": "Motif : Le certificat de référencement n'est pas lisible.\nDéposée le 02/03/2026.",
                     "html": "<p>Merci de déposer un KBIS de moins de trois mois. <b>&lt;i&gt;</b></p>"}  # HTML escaped
    broken = preview(analyst, code="rejet", context="demande", label="Rejet", subject="Rejet",
                     text="Bonjour,\n\n{% if reason %}Motif : {{ reason }}\n", html="")
    assert broken == {"error": "Texte, ligne 3 : erreur de syntaxe : le modèle se termine sans fermer le bloc « if » "
                               "(il manque « {% endif %} »)."}
    unknown = preview(analyst, code="rejet", context="demande", label="Rejet", subject="Rejet {{ numero }}", text="x")
    assert unknown["error"].startswith("Objet : variable inconnue « numero » (contexte « Demande")
    with portal.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PackageDraft)) == 0  # nothing saved


@pytest.mark.parametrize("part, source, message", [
    ("text", "Bonjour {{ nom_du_client }}", "texte : variable inconnue « nom_du_client » (contexte « Demande"),
    ("subject", "Rejet {{ number }", "objet, ligne 1 : erreur de syntaxe : « } » inattendu."),
    ("html", "<p>{{ submitted_at|date }}</p>", "HTML, ligne 1 : erreur de syntaxe : filtre inconnu « date »."),
    ("text", "   ", "texte manquant."),
    ("html", "{{ number.__class__.__mro__ }}", "HTML : accès interdit par le bac à sable des modèles ("),
    # what would exhaust the worker (and « Vérifier », which renders the sample) is refused, not run
    ("text", "{{ 'x' * 10**9 }}", "texte : accès interdit par le bac à sable des modèles (répétition refusée"),
    ("text", "{% for i in range(10**6) %}{% for j in range(10**6) %}x{% endfor %}{% endfor %}",
     "texte : accès interdit par le bac à sable des modèles (range() de plus de 1000 éléments"),
    ("subject", "{{ 9 ** 99999 }}", "objet : accès interdit par le bac à sable des modèles (puissance refusée"),
    ("text", "{% set r = range(1000) %}{% for i in r %}{% for j in r %}{% for k in r %}{% endfor %}{% endfor %}"
             "{% endfor %}", "texte : accès interdit par le bac à sable des modèles (plus de 100000 tours de boucle"),
])
def test_verifier_refuses_what_would_break_the_mail_and_names_the_template_and_the_part(portal, part, source, message):
    analyst = Analyst(portal)
    form = editor(analyst, "rejet").form("mail-form").fill(**{part: source})
    saved = form.submit("Enregistrer le brouillon")
    assert "Brouillon enregistré. À corriger avant de déployer :" in saved.alerts()
    assert any(alert.startswith(message[0].upper() + message[1:]) for alert in saved.alerts()), saved.alerts()
    refused = check(analyst, f"{EDITOR}/rejet")
    assert any(alert.startswith(f"Courriels / rejet : {message}") for alert in refused), refused
    answer = analyst.browser.post("/processus/paquet/deployer", {"csrf_token": [analyst.token], "comment": ["essai"],
                                                                 "next": [f"{EDITOR}/rejet"]})
    assert any(alert.startswith(f"Courriels / rejet : {message}") for alert in answer.alerts())
    with portal.app_context():
        assert package.current_row().version == 1


def test_a_template_cannot_reach_python_internals(portal):
    with portal.app_context():
        mails = package.Package({**package.current().data, "mails": {
            **package.current().data["mails"],
            "rejet": {**package.current().data["mails"]["rejet"], "subject": "{{ number.__class__.__base__.__subclasses__() }}"}}})["mails"]
        from jinja2.sandbox import SecurityError
        with pytest.raises(SecurityError):
            mails.render("rejet", {"number": "ENR0042M0"})
        data = {"trade_name": "BIS SANTE"}
        changing = package.Package({**package.current().data, "mails": {
            **package.current().data["mails"],
            "rejet": {**package.current().data["mails"]["rejet"], "subject": "{{ data.clear() }}{{ data.update(x=1) }}"}}})["mails"]
        with pytest.raises(SecurityError):
            changing.render("rejet", {"data": data})
        assert data == {"trade_name": "BIS SANTE"}  # the request's own data is left as it was
        with pytest.raises(package.mails.MailError, match="ne déclare pas : secret"):
            package.current()["mails"].render("rejet", {"number": "ENR0042M0", "secret": "x"})


def test_a_template_that_the_portal_or_a_diagram_sends_cannot_go(portal):
    analyst = Analyst(portal)
    page = editor(analyst, "identifiant")
    assert not [f for f in page.doc.forms if f.get("action", "").endswith("/supprimer")]  # no « Supprimer »
    refused = analyst.browser.post(f"{EDITOR}/identifiant/supprimer", {"csrf_token": [analyst.token]})
    assert "Ce courriel est envoyé par le portail : il ne peut pas être supprimé." in refused.alerts()
    gone = editor(analyst, "rejet").form_with("Supprimer").submit()
    assert "Courriel « Rejet de la demande » supprimé du brouillon." in " ".join(gone.alerts())
    assert "rejet" not in gone.doc.xpath("//table[@id='mail-templates']//code/text()")
    refused = check(analyst, EDITOR)
    assert "instruction.bpmn / mail_rejected : le modèle de courriel « rejet » n'existe pas." in refused, refused
    with portal.app_context():  # the portal's own mails cannot be removed from a package either
        data = package.current().data
        problems = package.check(package.deployed_sources(), {**data, "mails": {
            c: i for c, i in data["mails"].items() if c not in ("identifiant", "_layout")}})
        assert {str(p) for p in problems} >= {
            "Courriels / identifiant : ce courriel est envoyé par le portail : il ne peut pas être supprimé.",
            "Courriels / _layout : ce courriel est envoyé par le portail : il ne peut pas être supprimé."}


def test_an_analyst_adds_a_mail_that_a_diagram_then_sends(portal):
    analyst = Analyst(portal)
    index = analyst.browser.get(EDITOR)
    refused = index.form("new-mail").fill(code="Relance Agent", label="Relance", context="demande").submit()
    assert refused.status == 422
    assert "Le code doit être fait de lettres minuscules sans accent, de chiffres et de « _ » (60 au plus)." in refused.alerts()
    assert refused.form("new-mail").values["label"] == ["Relance"]  # nothing lost
    page = refused.form("new-mail").fill(code="relance_agent").submit()
    assert page.url == f"{EDITOR}/relance_agent" and page.h1.startswith("Relance")
    assert check(analyst, f"{EDITOR}/relance_agent") == ["Courriels / relance_agent : objet manquant."]
    page = page.form("mail-form").fill(subject="Votre demande {{ number }} attend l'Agence").submit("Enregistrer le brouillon")
    assert "Brouillon enregistré." in page.alerts()
    assert check(analyst, EDITOR) == ["Le paquet de processus, avec vos brouillons, peut être déployé."]
    with portal.app_context():
        mails = package.Package(package.draft_data())["mails"]
        subject, text, html = mails.render("relance_agent", package.mails.sample("demande"))
        assert subject == "Votre demande ENR0042M0 attend l'Agence"
        assert text.startswith("Madame, Monsieur,\n\n") and "Cordialement." in text and "<p>Madame, Monsieur,</p>" in html


def test_export_writes_back_the_mail_files_as_they_are(portal, tmp_path):
    result = portal.test_cli_runner().invoke(args=["bpmn", "export", "--bpmn", str(tmp_path / "bpmn"),
                                                   "--mails", str(tmp_path / "mails")])
    assert result.exit_code == 0, result.output
    with portal.app_context():
        source = package.folders().mails
    comparison = filecmp.dircmp(source, tmp_path / "mails", ignore=["README.md"])
    for compared in (comparison, *comparison.subdirs.values()):
        assert not compared.left_only and not compared.right_only, (compared.left, compared.left_only, compared.right_only)
        _, mismatch, errors = filecmp.cmpfiles(compared.left, compared.right, compared.common_files, shallow=False)
        assert not mismatch and not errors, (compared.left, mismatch)
    index = json.loads((tmp_path / "mails" / "index.json").read_text(encoding="utf-8"))
    assert index["accuse_reception"] == {"label": "Accusé de réception de la demande", "context": "demande"}


def test_a_request_on_a_version_that_predates_mail_templates_gets_the_current_wording(portal, mailbox):
    from app import clock
    from app.models import ProcessPackage
    from app.services import enrolment, outbox
    with portal.app_context():
        older = ProcessPackage(version=0, sha256="0" * 64, data_json="{}", sources_json="{}", created_at=clock.now(),
                               author="avant les courriels", comment="", is_current=False)
        db.session.add(older)
        db.session.flush()
        request = enrolment.start()
        request.instance.package_id = older.id
        outbox.enqueue("accuse_reception", "ancienne@fournisseur-sante.fr",
                       {"number": "ENR0042M0", "siret": "34866299000038", "submitted_at": clock.now(),
                        "assistance_url": "https://segurnum.asp-public.fr/segurnum/contacter-assistance"}, request=request)
        db.session.commit()
    mail, = mailbox.to("ancienne@fournisseur-sante.fr")
    assert mail["Subject"] == "Accusé de réception de votre demande d'enrôlement ENR0042M0 - Ségur numérique"


def test_the_shared_layout_is_edited_once_for_every_mail(portal):
    analyst = Analyst(portal)
    page = editor(analyst, "_layout")
    assert "subject" not in page.form("mail-form").fields()  # a frame, not a mail
    assert "L'Agence de services et de paiement." in page.form("mail-form").values["text"][0]
    text = page.form("mail-form").values["text"][0].replace("L'Agence de services et de paiement.", "L'ASP, service Ségur.")
    saved = page.form("mail-form").fill(text=text).submit("Enregistrer le brouillon")
    assert "Brouillon enregistré." in saved.alerts()
    for code in ("rejet", "identifiant", "fichier_infecte"):  # three sending contexts
        fields = {name: values[0] for name, values in editor(analyst, code).form("mail-form").values.items()
                  if name != "csrf_token"}
        shown = preview(analyst, **fields)
        assert "L'ASP, service Ségur." in shown["text"] and "L'Agence de services et de paiement." not in shown["text"], code
    broken = page.form("mail-form").fill(text=text + "{{ login }}").submit("Enregistrer le brouillon")
    assert any(alert.startswith("Texte : variable inconnue « login » (contexte « Mise en page commune") for alert in broken.alerts())


def test_only_analysts_and_admins_reach_the_mail_editor(portal):
    from browser import Browser
    from people import log_in, make_user
    assert Analyst(portal, role="admin").browser.get(EDITOR).status == 200
    anonymous = Browser(portal.test_client()).client.get(f"{EDITOR}/rejet")
    assert anonymous.status_code == 302 and "/connexion" in anonymous.headers["Location"]
    for role in ("agent", "supplier"):
        browser = Browser(portal.test_client())
        log_in(browser, *make_user(portal, role))
        token = browser.get("/").doc.xpath("//input[@name='csrf_token']/@value")[0]
        assert browser.client.get(f"{EDITOR}/rejet").status_code == 404, role
        assert browser.client.post(f"{EDITOR}/apercu", data={"csrf_token": token, "code": "rejet"}).status_code == 404, role
        assert browser.client.post(f"{EDITOR}/rejet", data={"csrf_token": token, "text": "x"}).status_code == 404, role
    with portal.app_context():
        assert package.draft_data()["mails"]["rejet"]["text"] != "x"
