"""In a real browser: the supplier's page shows the recap PDF as soon as the worker made it, without
a reload (js/recap.js); the studio's « Exécuter en arrière-plan (par le worker) » checkbox edits a
service task's ``async`` property, and what is deployed is what was ticked."""
from lxml import etree

from background import run_continuations
from journey import Journey
from people import PASSWORD, make_user
from test_studio_browser import deployed_xml, open_studio, sign_in

SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


def async_values(xml: str) -> dict[str, str]:
    """{element id: value of its ``async`` property} in ``xml``."""
    root = etree.fromstring(xml.encode("utf-8"))
    return {prop.getparent().getparent().getparent().get("id"): prop.get("value")
            for prop in root.iter(f"{SPIFF}property") if prop.get("name") == "async"}


def test_an_analyst_moves_the_background_work_to_another_service_task(portal, chromium):
    app, page = portal, chromium  # the portal fixture deployed bpmn/
    assert async_values(deployed_xml(app, "initial_enrolment.bpmn")) == {"recap_pdf": "true"}
    sign_in(app, page, "analyst")
    open_studio(page, "initial_enrolment")

    page.click("g.djs-element[data-element-id='recap_pdf']")
    box = page.locator("#studio-panel [data-property='async']")
    assert box.is_checked()
    page.locator("#studio-panel label", has_text="Exécuter en arrière-plan (par le worker)").click()
    assert not box.is_checked()
    page.click("g.djs-element[data-element-id='siret_search']")  # a user task: no such choice
    assert page.locator("#studio-panel [data-property='async']").count() == 0
    page.click("g.djs-element[data-element-id='acknowledgment']")
    assert not page.locator("#studio-panel [data-property='async']").is_checked()
    page.locator("#studio-panel label", has_text="Exécuter en arrière-plan (par le worker)").click()

    page.click("#studio-check")
    page.wait_for_selector("#studio-alert:has-text('Diagramme valide')")
    page.fill("#studio-comment", "Le PDF dans la requête, l'accusé de réception par le worker")
    page.click("#studio-deploy")
    page.wait_for_selector("#studio-alert:has-text('Les nouvelles demandes suivent cette version')")
    assert async_values(deployed_xml(app, "initial_enrolment.bpmn")) == {"acknowledgment": "true"}


def test_the_recap_link_appears_once_the_worker_made_the_pdf(portal, chromium):
    app, page = portal, chromium
    journey = Journey(app.test_client())
    public_id = journey.complete(worker=False).url.split("/")[2]
    login, _ = make_user(app, "supplier", sirets=[journey.supplier.siret])
    page.goto("/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_load_state()
    page.goto(f"/espace/demandes/{public_id}")
    assert "Le récapitulatif PDF est en cours de préparation…" in page.inner_text("#recap")
    assert run_continuations(app) == 1
    # recap.js asks the page again every few seconds and puts the new paragraph in place.
    page.wait_for_selector("#recap a.fr-link--download:has-text('Télécharger le récapitulatif (PDF)')")
    assert "en cours de préparation" not in page.inner_text("#recap")
