"""In a real browser (Debian's Chromium through Playwright): after a deploy, the analyst follows
« Demandes en cours sur une version antérieure » from the versions page, ticks the request that can
move, moves it, then undoes the move; both pages pass axe-core."""
from playwright.sync_api import expect

from app.extensions import db
from app.models import EnrolmentRequest
from instruction_steps import Agent, file_request
from journey import Supplier
from studio import Analyst
from test_accessibility_browser import Axe
from test_migration import NO_DOCUMENTS, ask_documents, deploy
from test_studio_browser import sign_in


def version_of(app, public_id) -> int:
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        return request.instance.process_version.version


def test_an_analyst_moves_a_request_and_undoes_it(portal, chromium):
    app, page = portal, chromium
    waiting, _ = file_request(app)
    asked, _ = file_request(app, Supplier(ans_number="MSv2VIL014", siret="79031846300011"))
    ask_documents(Agent(app), asked)
    deploy(Analyst(app), "Plus de demande de pièces", instruction_bpmn=NO_DOCUMENTS)
    axe = Axe(page)

    sign_in(app, page, "analyst")
    page.goto("/processus")
    page.locator("#process-initial_enrolment").get_by_role("link", name="Demandes en cours sur une version antérieure").click()
    page.wait_for_selector("#migration-candidates")
    axe.scan()
    rows = page.locator("#migration-candidates tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#migration-candidates input[type='checkbox']")).to_have_count(1)  # the refused one has none
    refused = rows.filter(has_text="Demande de pièces justificatives")
    assert "n'existe plus dans la version 2" in refused.inner_text()
    page.locator("#migration-candidates label.fr-label").click()  # DSFR draws the box on the label
    assert page.locator("#migration-candidates input[type='checkbox']").is_checked()
    page.get_by_role("button", name="Déplacer vers la version 2").click()
    page.wait_for_selector(".fr-alert:has-text('déplacée vers la version 2')")
    assert version_of(app, waiting) == 2 and version_of(app, asked) == 1
    axe.scan()

    page.get_by_role("button", name="Annuler le changement de version").click()
    page.wait_for_selector(".fr-alert:has-text('de retour sur la version 1')")
    assert version_of(app, waiting) == 1
    assert "Annulé le" in page.inner_text("#migration-moves")

    page.goto("/processus/paquet/comparer")
    page.get_by_role("link", name="Demandes en cours sur une version antérieure").click()
    page.wait_for_selector("#migration-process-initial_enrolment")
    axe.scan()
    axe.assert_clean()
