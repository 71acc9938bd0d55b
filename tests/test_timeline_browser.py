"""In a real browser (Debian's Chromium through Playwright): a supplier opens their request from
« Gérer mes demandes d'enrôlement » and reads its timeline, not a BPMN diagram, under the portal's
Content-Security-Policy; an analyst renames a step of that timeline in the studio."""
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from app import clock
from instruction_steps import Agent, file_request
from journey import Supplier
from people import PASSWORD, make_user
from test_csp_browser import Watched
from test_timeline import supplier_of, timeline
from test_studio_browser import sign_in


@pytest.fixture
def watched(chromium):
    watched = Watched(chromium)
    yield watched
    watched.assert_clean()


def test_the_supplier_reads_a_timeline_and_no_diagram(portal, mailbox, watched):
    page = watched.page
    clock.freeze(datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc))
    public_id, supplier = file_request(portal)
    clock.advance(timedelta(days=2))
    Agent(portal).decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS de moins de 3 mois.")

    login, _ = make_user(portal, "supplier", sirets=[supplier.siret])
    page.goto("/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_load_state()
    page.goto("/espace/demandes")
    page.locator(f"main a[href='/espace/demandes/{public_id}']", has_text="Consulter").click()
    page.wait_for_selector("#request-timeline")

    steps = page.locator("#request-timeline > li")
    expect(steps).to_have_count(6)
    assert steps.nth(3).inner_text().split("\n")[:1] == ["Dépôt des pièces demandées"]
    current = page.locator("#request-timeline > li[aria-current='step']")
    assert current.is_visible()
    assert "Répondez avant le 18/12/2026" in current.inner_text()
    assert "En cours depuis le 03/12/2026" in current.text_content()  # the badge shows it in capitals
    assert steps.last.inner_text().split("\n")[0] == "Ouverture de votre compte"
    assert "À venir" in steps.last.text_content()
    # No diagram canvas, nor the viewer's script.
    assert page.locator("#request-diagram, .djs-container, svg[data-element-id]").count() == 0
    assert page.evaluate("typeof window.BpmnJS") == "undefined"
    watched.assert_clean()


def test_an_analyst_renames_a_timeline_step_in_the_studio(portal, mailbox, watched):
    page = watched.page
    running_id, running_supplier = file_request(portal)
    sign_in(portal, page, "analyst")
    page.goto("/processus")
    page.locator("#process-instruction").get_by_role("link", name="Modifier le diagramme").click()
    page.wait_for_selector("#studio[data-ready='true']")
    page.click("g.djs-element[data-element-id='open_access_validated']")
    label = page.locator("#studio-panel [data-property='timelineLabel']")
    assert label.input_value() == "Ouverture de votre compte"
    label.fill("Accès à votre espace")
    label.press("Tab")
    page.click("g.djs-element[data-element-id='review']")
    assert page.locator("#studio-panel [data-property='timelineLabel']").input_value() == ""
    page.click("#studio-check")
    page.wait_for_selector("#studio-alert:has-text('Diagramme valide')")
    page.fill("#studio-comment", "Étape du suivi plus claire")
    page.click("#studio-deploy")
    page.wait_for_selector("#studio-alert:has-text('Les nouvelles demandes suivent cette version')")
    watched.assert_clean()

    new_id, new_supplier = file_request(portal, Supplier(ans_number="MSv2VIL014"))
    assert timeline(supplier_of(portal, new_supplier).get(f"/espace/demandes/{new_id}"))[-1] \
        == ("Accès à votre espace", "À venir", None)
    assert timeline(supplier_of(portal, running_supplier).get(f"/espace/demandes/{running_id}"))[-1] \
        == ("Ouverture de votre compte", "À venir", None)
