"""In a real browser (Debian's Chromium through Playwright): an analyst adds a status in
« Processus » › « Statuts », is told what is wrong, corrects it, checks and deploys the package; each
page the editor shows passes axe-core."""
from app.package import statuses
from people import PASSWORD, make_user
from test_accessibility_browser import Axe


def test_an_analyst_adds_a_status_in_the_editor_and_deploys_it(portal, chromium):
    page = chromium
    axe = Axe(page)
    login, _ = make_user(portal, "analyst")
    page.goto("/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_load_state()

    page.goto("/processus")
    page.locator("#package-sections").get_by_role("link", name="Statuts").click()
    assert page.locator("h1").inner_text() == "Statuts des demandes"
    axe.scan()
    page.get_by_role("link", name="Ajouter un statut").click()
    axe.scan()
    page.get_by_label("Code").fill("En expertise")
    page.get_by_label("Libellé pour les fournisseurs").fill("En cours d'expertise")
    page.get_by_label("Libellé pour les agents").fill("Expertise technique")
    page.get_by_label("Couleur du badge").select_option("new")
    page.locator("label", has_text="Le fournisseur").click()          # DSFR hides the inputs under their labels
    page.locator("label", has_text="Déposer des pièces jointes").click()
    assert page.get_by_label("Le fournisseur").is_checked() and page.get_by_label("Déposer des pièces jointes").is_checked()
    page.get_by_role("button", name="Enregistrer dans le brouillon").click()
    page.wait_for_selector("#errors-summary")
    axe.scan()
    assert "lettres minuscules sans accent" in page.inner_text("#code-messages")
    assert page.get_by_label("Libellé pour les agents").input_value() == "Expertise technique"   # kept
    page.get_by_label("Code").fill("en_expertise")
    page.get_by_role("button", name="Enregistrer dans le brouillon").click()
    page.wait_for_selector("#status-en_expertise")
    assert "ajouté au brouillon" in page.inner_text("main")
    row = page.locator("#status-en_expertise")
    assert "En cours d'expertise" in row.text_content() and "Déposer des pièces jointes" in row.text_content()
    assert "fr-badge--new" in row.locator(".fr-badge").first.get_attribute("class")
    axe.scan()                                                         # with its draft

    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_selector("text=peut être déployé")
    page.get_by_label("Commentaire de version").fill("Statut d'expertise")
    page.get_by_role("button", name="Déployer").click()
    page.wait_for_selector("text=Paquet de processus version 2 déployé")
    assert page.locator("#statuses-draft").count() == 0
    axe.assert_clean()
    with portal.app_context():
        added = statuses.current()["en_expertise"]
        assert (added.supplier_label, added.agent_label, added.acts, added.actions) == (
            "En cours d'expertise", "Expertise technique", "supplier", ("deposit_documents",))
