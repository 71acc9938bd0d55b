"""Mail templates as process data: an analyst rewords a mail in the studio (« Courriels »), sees it
rendered with a sample request, « Vérifier » refuses what would break a mail, « Déployer » makes it
the wording of new requests while running ones keep the wording of their version; templates run in
Jinja's sandbox; ``flask bpmn export`` writes the files back as they were."""
import filecmp
import json

import pytest

from app import package
from app.extensions import db
from app.models import OutboxMail
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
