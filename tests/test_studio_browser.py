"""In a real browser (Debian's Chromium through Playwright): the analyst's studio, and the diagram
an agent sees on a request's review page."""
from datetime import timedelta

import pytest

from app import clock
from app.package import deploy_files
from app.extensions import db
from app.models import EnrolmentRequest
from browser import Browser
from instruction_steps import Agent, file_request
from people import PASSWORD, log_in, make_user


@pytest.fixture
def deployed(portal):
    with portal.app_context():
        deploy_files(author="premier démarrage")
        db.session.commit()
    return portal


def sign_in(app, page, role):
    login, _ = make_user(app, role)
    page.goto("/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_load_state()


def test_an_analyst_changes_a_label_and_a_timer_and_new_requests_follow(deployed, chromium, mailbox):
    app, page = deployed, chromium
    sign_in(app, page, "analyst")
    page.goto("/processus")
    page.locator("#process-supporting_documents").get_by_role("link", name="Modifier le diagramme").click()
    page.wait_for_selector("#studio[data-ready='true']")

    page.click("g.djs-element[data-element-id='deposit']")
    label = page.locator("#studio-panel [data-property='name']")
    assert label.input_value() == "Déposer des pièces jointes"
    label.fill("Déposer les pièces demandées")
    label.press("Tab")
    page.click("g.djs-element[data-element-id='reminder_due']")
    duration = page.locator("#studio-panel [data-property='timeDuration']")
    assert duration.input_value() == '"P15D"'
    duration.fill('"P10D"')
    duration.press("Tab")

    page.click("#studio-check")
    page.wait_for_selector("#studio-alert:has-text('Diagramme valide')")
    page.click("#studio-compare")
    page.wait_for_selector("#studio-alert:has-text('deposit')")
    assert "reminder_due" in page.inner_text("#studio-alert")
    page.fill("#studio-comment", "Délai de dépôt ramené à 10 jours")
    page.click("#studio-deploy")
    page.wait_for_selector("#studio-alert:has-text('Les nouvelles demandes suivent cette version')")
    assert "supporting_documents v2" in page.inner_text("#studio-alert")
    page.click("#studio-moving-link")  # where the analyst moves running requests to the new version
    page.wait_for_selector("h1:has-text('Demandes en cours sur une version antérieure')")

    # A new request follows the new version: the supplier's deposit step has the new label, and
    # the reminder comes after 10 days.
    public_id, supplier = file_request(app)
    start = clock.now()
    clock.freeze(start)
    Agent(app).decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS récent.")
    supplier_browser = Browser(app.test_client())
    log_in(supplier_browser, *make_user(app, "supplier", sirets=[supplier.siret]))
    deposit = supplier_browser.get(f"/demandes/{public_id}/etape")
    assert deposit.doc.xpath("string(//title)").startswith("Déposer les pièces demandées")
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        assert request.instance.next_timer_at == start + timedelta(days=10)


def test_the_review_page_shows_the_diagram_with_the_current_task(deployed, chromium):
    app, page = deployed, chromium
    public_id, _ = file_request(app)
    sign_in(app, page, "agent")
    page.goto(f"/gestion/demandes/{public_id}")
    page.wait_for_selector("#request-diagram g.djs-element.diagram-current[data-element-id='review']")
    assert page.locator("#request-diagram g.djs-element.diagram-done").count() > 0


def open_studio(page, process_id):
    page.goto("/processus")
    page.locator(f"#process-{process_id}").get_by_role("link", name="Modifier le diagramme").click()
    page.wait_for_selector("#studio[data-ready='true']")


def deployed_xml(app, file_name):
    with app.app_context():
        from app.package import deployed_sources
        return deployed_sources()[file_name]


def test_an_analyst_renames_an_element_and_makes_a_timer_interrupting(deployed, chromium):
    app, page = deployed, chromium
    sign_in(app, page, "analyst")
    open_studio(page, "supporting_documents")

    page.click("g.djs-element[data-element-id='mark_overdue']")
    ident = page.locator("#studio-panel [data-property='id']")
    assert ident.input_value() == "mark_overdue"
    ident.fill("2 retard")
    ident.press("Tab")
    assert "Identifiant invalide" in page.inner_text("#studio-panel .fr-error-text")
    ident.fill("mail_reminder")
    ident.press("Tab")
    assert "déjà celui d'un autre élément" in page.inner_text("#studio-panel .fr-error-text")
    ident.fill("signaler_retard")
    ident.press("Tab")
    assert page.locator("#studio-panel .fr-error-text").count() == 0
    page.wait_for_selector("g.djs-element[data-element-id='signaler_retard']")

    page.click("g.djs-element[data-element-id='reminder_due']")
    interrupting = page.locator("#studio-panel [data-property='cancelActivity']")
    assert not interrupting.is_checked()  # the reminder leaves the deposit open
    page.locator("#studio-panel label", has_text="Interrompt la tâche").click()  # DSFR: the label is what one clicks
    assert interrupting.is_checked()

    page.click("#studio-check")
    page.wait_for_selector("#studio-alert:has-text('Diagramme valide')")
    page.click("#studio-compare")
    page.wait_for_selector("#studio-alert:has-text('signaler_retard')")
    text = page.inner_text("#studio-alert")
    assert "mark_overdue" in text and "reminder_due" in text
    assert page.inner_text("#studio-state").startswith("Version déployée")
    with app.app_context():
        from app.package import bpmn_drafts
        assert bpmn_drafts() == {}  # « Vérifier » and « Comparer » saved nothing

    page.fill("#studio-comment", "Relance qui clôt le dépôt ; identifiant lisible")
    page.click("#studio-deploy")
    page.wait_for_selector("#studio-alert:has-text('Les nouvelles demandes suivent cette version')")
    assert "Paquet de processus version 2 déployé" in page.inner_text("#studio-alert")
    xml = deployed_xml(app, "supporting_documents.bpmn")
    assert 'id="mark_overdue"' not in xml and ">mark_overdue<" not in xml and 'Ref="mark_overdue"' not in xml
    assert 'sourceRef="signaler_retard"' in xml and 'targetRef="signaler_retard"' in xml
    assert 'bpmnElement="signaler_retard"' in xml
    assert 'id="reminder_due"' in xml and 'cancelActivity="false"' not in xml


def test_an_analyst_chooses_the_decisions_a_review_offers(deployed, chromium):
    app, page = deployed, chromium
    sign_in(app, page, "analyst")
    open_studio(page, "instruction")
    page.click("g.djs-element[data-element-id='review']")
    boxes = page.locator("#studio-panel [data-property='decisions']")
    assert [boxes.nth(i).get_attribute("value") for i in range(boxes.count())] == [
        "valider", "valider_partiellement", "rejeter", "demander_pieces"]
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.locator("#studio-panel label", has_text="(demander_pieces)").click()
    assert not page.locator("#studio-panel [data-property='decisions'][value='demander_pieces']").is_checked()
    for field in ("documentTypes", "fields", "notSameActorAs"):
        assert page.locator(f"#studio-panel [data-property='{field}']").count() == 1
    fields = page.locator("#studio-panel [data-property='fields']")
    fields.fill("[{pas du json")
    fields.press("Tab")
    assert "Ce n'est pas un JSON valide" in page.inner_text("#studio-panel .fr-error-text")
    fields.fill("")
    fields.press("Tab")

    page.fill("#studio-comment", "Plus de demande de pièces")
    page.click("#studio-deploy")
    page.wait_for_selector("#studio-alert:has-text('Les nouvelles demandes suivent cette version')")
    assert 'name="decisions" value="valider,valider_partiellement,rejeter"' in deployed_xml(app, "instruction.bpmn")
    public_id, _ = file_request(app)
    offered = Agent(app).decision_form(public_id).doc.xpath("//input[@name='decision']/@value")
    assert "demander_pieces" not in offered and "valider" in offered


def test_renaming_a_task_updates_the_properties_that_name_it(deployed, chromium):
    app, page = deployed, chromium
    sign_in(app, page, "analyst")
    open_studio(page, "initial_enrolment")
    page.click("g.djs-element[data-element-id='vat_regime']")
    page.locator("#studio-panel [data-property='notSameActorAs']").select_option("bank_details")
    page.click("g.djs-element[data-element-id='bank_details']")
    ident = page.locator("#studio-panel [data-property='id']")
    ident.fill("coordonnees_bancaires")
    ident.press("Tab")
    page.wait_for_selector("g.djs-element[data-element-id='coordonnees_bancaires']")
    page.click("#studio-save")
    page.wait_for_selector("#studio-alert:has-text('Brouillon enregistré')")
    with app.app_context():
        from app.package import bpmn_drafts
        xml = bpmn_drafts()["initial_enrolment.bpmn"]
    assert 'name="notSameActorAs" value="coordonnees_bancaires"' in xml
    assert 'id="bank_details"' not in xml and 'targetRef="coordonnees_bancaires"' in xml
