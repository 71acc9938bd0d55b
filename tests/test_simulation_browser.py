"""« Simuler » in a real browser (Debian's Chromium through Playwright): an analyst shortens a
reminder in the diagram studio, saves it as a draft and simulates it: the reminder fires after
ten virtual days, the path shows on the diagram, nothing is deployed."""
import json

from playwright.sync_api import expect

from app.extensions import db
from app.models import EnrolmentRequest, ProcessDraft, ProcessVersion
from test_accessibility_browser import Axe
from test_simulation import SUBMITTED
from test_studio_browser import open_studio, sign_in


def test_an_analyst_simulates_a_shortened_reminder(portal, chromium):
    app, page = portal, chromium
    axe = Axe(page)
    sign_in(app, page, "analyst")
    open_studio(page, "supporting_documents")
    page.click("g.djs-element[data-element-id='reminder_due']")
    duration = page.locator("#studio-panel [data-property='timeDuration']")
    duration.fill('"P10D"')
    duration.press("Tab")
    page.click("#studio-save")
    page.wait_for_selector("#studio-state:has-text('Brouillon enregistré')")
    page.click("#studio-check")  # no scenario yet: nothing to replay
    page.wait_for_selector("#studio-alert:has-text('Diagramme valide : il peut être déployé.')")

    page.get_by_role("link", name="Simuler").click()
    assert page.locator("#process").input_value() == "supporting_documents"
    axe.scan()
    page.fill("#sample", json.dumps(SUBMITTED))
    page.get_by_role("button", name="Commencer la simulation").click()
    page.wait_for_selector("h1:has-text('Simulation de « supporting_documents »')")
    expect(page.locator(".simulation-mail")).to_have_count(1)  # the request for documents
    assert "En attente de pièce(s) jointe(s) complémentaire(s)" in page.inner_text(".simulation-status")
    assert page.locator("#simulation-task h2").inner_text() == "Étape en cours : Déposer des pièces jointes"
    # The path on the diagram: the mail sent is done, the deposit is where the run stands.
    page.wait_for_selector("g.djs-element.diagram-done[data-element-id='mail_request']")
    page.wait_for_selector("g.djs-element.diagram-current[data-element-id='deposit']")
    axe.scan()

    page.fill("#days", "9")
    page.get_by_role("button", name="Avancer l'horloge").click()
    page.wait_for_selector("#simulation-log article:nth-of-type(2)")
    assert "Relance" not in page.inner_text("#simulation-log")

    page.fill("#days", "1")
    page.get_by_role("button", name="Avancer l'horloge").click()
    page.wait_for_selector(".simulation-mail__subject:has-text('Relance : pièces justificatives attendues')")
    page.wait_for_selector("g.djs-element.diagram-done[data-element-id='mail_reminder']")
    page.fill("#scenario-name", "Relance à 10 jours")
    page.get_by_role("button", name="Enregistrer comme scénario").click()
    page.wait_for_selector("#simulation-scenario:has-text('Relance à 10 jours')")
    page.goto("/processus/simulations")
    axe.scan()

    # Back in the studio, the reminder moved to 12 days: « Vérifier » says the scenario changed.
    page.goto("/processus/fichiers/supporting_documents.bpmn")
    page.wait_for_selector("#studio[data-ready='true']")
    page.click("g.djs-element[data-element-id='reminder_due']")
    duration = page.locator("#studio-panel [data-property='timeDuration']")
    duration.fill('"P12D"')
    duration.press("Tab")
    page.click("#studio-check")
    page.wait_for_selector("#studio-alert:has-text('1 scénario(s) ne se déroulent plus de la même façon')")
    assert "« Relance à 10 jours » : étape 3 « Avancer de 1 jour »" in page.inner_text("#studio-alert .studio-scenario")
    axe.scan()
    axe.assert_clean()

    with app.app_context():  # a draft tried, nothing deployed, no request
        assert db.session.scalar(db.select(ProcessDraft.file_name)) == "supporting_documents.bpmn"
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)
                                 .where(ProcessVersion.process_id == "supporting_documents")) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(EnrolmentRequest)) == 0
