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
