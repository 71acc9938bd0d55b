"""In a real browser (Debian's Chromium through Playwright): an analyst adds a step's fields in the
studio's form editor, orders and edits them, checks and deploys the package; a supplier's next
request is asked for them. Each page of the editor passes axe-core."""
from playwright.sync_api import expect

from app import package
from journey import Journey
from test_accessibility_browser import Axe
from test_studio_browser import open_studio, sign_in


def test_an_analyst_adds_orders_edits_and_deploys_fields_in_the_editor(portal, chromium):
    app, page = portal, chromium
    axe = Axe(page)
    sign_in(app, page, "analyst")
    page.goto("/processus")
    page.locator("#package-sections").get_by_role("link", name="Formulaires").click()
    axe.scan()
    page.fill("#key", "applicant")
    page.fill("#label", "Compléments du demandeur")
    page.get_by_role("button", name="Ajouter le formulaire").click()
    assert page.inner_text("h1") == "Formulaire « applicant »"

    add = page.locator("#add-field")
    add.locator("#label").fill("Numéro FINESS")
    add.get_by_label("Nom technique").fill("finess")
    add.get_by_label("Type de champ").select_option("text")
    add.locator("label[for=required]").click()  # DSFR draws the box on the label
    add.get_by_role("button", name="Ajouter le champ").click()
    add = page.locator("#add-field")
    add.locator("#label").fill("Taille de la structure")
    add.get_by_label("Nom technique").fill("size")
    add.get_by_label("Type de champ").select_option("choice")
    add.get_by_role("button", name="Ajouter le champ").click()
    assert "Une liste de choix doit proposer au moins un choix." in page.inner_text("#errors-summary")
    axe.scan()  # the definition's page, with the refused field's errors
    assert page.locator("#add-field").locator("#label").input_value() == "Taille de la structure"
    page.locator("#add-field").get_by_label("Choix proposés").fill("pme | PME\neti | ETI")
    page.locator("#add-field").get_by_role("button", name="Ajouter le champ").click()

    page.locator("#field-size").get_by_role("button", name="Monter").click()
    # The move reloads the page: wait for the new order rather than read the list mid-navigation.
    expect(page.locator("#fields tbody tr td:nth-child(2)")).to_have_text(["size", "finess"])
    page.locator("#field-finess").get_by_role("link", name="Modifier").click()
    axe.scan()
    page.get_by_label("Texte d'aide").fill("Le numéro FINESS de l'établissement.")
    page.get_by_role("button", name="Enregistrer le champ").click()
    assert "Champ « Numéro FINESS » enregistré" in page.inner_text(".fr-alert--success")

    page.get_by_role("button", name="Vérifier").click()
    assert "peut être déployé" in page.inner_text(".fr-alert--success")
    page.fill("#package-comment", "Numéro FINESS et taille demandés au demandeur")
    page.get_by_role("button", name="Déployer").click()
    assert "déployé" in page.inner_text(".fr-alert--success")
    axe.assert_clean()

    with app.app_context():
        fields = package.current()["forms"]["applicant"].fields
        assert [(f.name, f.required, f.help) for f in fields] == [
            ("size", False, ""), ("finess", True, "Le numéro FINESS de l'établissement.")]
    journey = Journey(app.test_client())
    journey.start()
    step = journey.until("applicant")
    assert "Numéro FINESS *" in step.content and "Taille de la structure" in step.content


def test_an_analyst_declares_fields_on_a_task_in_the_diagram_studio(portal, chromium):
    app, page = portal, chromium
    sign_in(app, page, "analyst")
    open_studio(page, "initial_enrolment")
    page.click("g.djs-element[data-element-id='vat_regime']")
    declared = page.locator("#studio-panel [data-property='fields']")
    declared.fill('[{"name": "vat_number", "label": "Numéro de TVA intracommunautaire", "type": "texte"}]')
    declared.press("Tab")
    page.click("#studio-check")
    page.wait_for_selector("#studio-alert:has-text('type inconnu « texte »')")
    declared.fill('[{"name": "vat_number", "label": "Numéro de TVA intracommunautaire", "type": "text", "required": true}]')
    declared.press("Tab")
    page.click("#studio-check")
    page.wait_for_selector("#studio-alert:has-text('Diagramme valide')")
    page.fill("#studio-comment", "Numéro de TVA demandé")
    page.click("#studio-deploy")
    page.wait_for_selector("#studio-alert:has-text('Les nouvelles demandes suivent cette version')")

    journey = Journey(app.test_client())
    journey.start()
    step = journey.until("vat_regime")
    assert "Numéro de TVA intracommunautaire *" in step.content
    refused = journey.fill().submit("Etape suivante")
    assert refused.errors() == {"vat_number": ["Ce champ est obligatoire."]}
