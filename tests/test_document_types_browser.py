"""In a real browser (Debian's Chromium through Playwright): the studio's editor of document types,
from « Processus » to a deployed package whose type a supplier's page reads."""
from playwright.sync_api import expect

from app import package
from app.extensions import db
from people import PASSWORD, make_user
from test_accessibility_browser import Axe


def test_an_analyst_adds_a_document_type_and_deploys_it(portal, chromium):
    page = chromium
    axe = Axe(page)
    login, _ = make_user(portal, "analyst")
    page.goto("/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Valider").click()
    page.goto("/processus")
    page.locator("#package-sections").get_by_role("link", name="Types de documents").click()
    axe.scan()
    page.get_by_role("link", name="Ajouter un type de document").click()

    page.get_by_label("Code").fill("attestation_dsr")
    page.get_by_label("Libellé").fill("Attestation spécifique DSR")
    page.get_by_text("PNG (.png)", exact=True).click()  # a DSFR checkbox: its label takes the click
    page.get_by_label("Taille maximale (Mo)").fill("0")
    page.get_by_role("button", name="Enregistrer dans le brouillon").click()
    assert "La taille maximale doit être un nombre de Mo supérieur à 0" in page.inner_text("#max_size_mb-group")
    assert page.get_by_label("Libellé").input_value() == "Attestation spécifique DSR"
    axe.scan()  # the form with its errors
    page.get_by_label("Taille maximale (Mo)").fill("2,5")
    page.get_by_label("Code").fill("attestation_dsr")
    page.get_by_role("button", name="Enregistrer dans le brouillon").click()
    row = page.locator("#type-attestation_dsr")
    assert "Attestation spécifique DSR" in row.inner_text() and "png — 2,5 Mo" in row.inner_text()

    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_text("Le paquet de processus, avec vos brouillons, peut être déployé.")).to_be_visible()
    page.get_by_label("Commentaire de version").fill("Attestation spécifique DSR")
    page.get_by_role("button", name="Déployer").click()
    expect(page.get_by_text("Paquet de processus version 2 déployé")).to_be_visible()
    with portal.app_context():
        found = package.current()["document_types"]["attestation_dsr"]
        assert (found.label, found.formats, found.max_size_mb) == ("Attestation spécifique DSR", ("png",), 2.5)
        db.session.rollback()
    axe.assert_clean()
