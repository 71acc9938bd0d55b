"""In a real browser (Debian's Chromium through Playwright): the analyst types in the mail editor and
the preview, rendered with a sample request, follows; a syntax error shows its French message;
« Vérifier » keeps what was typed."""
from app import package
from test_accessibility_browser import Axe
from test_studio_browser import sign_in


def test_the_preview_follows_what_the_analyst_types(portal, chromium):
    page = chromium
    sign_in(portal, page, "analyst")
    page.goto("/processus")
    page.locator("#package-sections").get_by_role("link", name="Courriels").click()
    axe = Axe(page)
    axe.scan()
    page.get_by_role("link", name="Accusé de réception de la demande").click()
    page.wait_for_selector("#mail-form[data-ready='true']")
    assert page.inner_text("#preview-subject").startswith("Accusé de réception de votre demande d'enrôlement ENR0042M0")
    axe.scan()
    axe.assert_clean()

    page.fill("#mail-subject", "Bien reçu : demande {{ number }} du {{ submitted_at|date_fr }}")
    page.wait_for_selector("#preview-subject:text-is('Bien reçu : demande ENR0042M0 du 02/03/2026')")
    page.fill("#mail-html", "<p>Bonjour {{ company_name }},</p>")
    html = page.frame_locator("#preview-html").locator("p")
    html.filter(has_text="Bonjour BEAUJOLAIS INFORMATIQUE SANTE,").wait_for()
    assert page.get_attribute("#preview-html", "sandbox") == ""  # no script, no same origin

    page.fill("#mail-text", "Bonjour,\n{% if reason %}Motif : {{ reason }}")
    page.wait_for_selector("#preview-error:not([hidden])")
    assert page.inner_text("#preview-error-text") == (
        "Texte, ligne 2 : erreur de syntaxe : le modèle se termine sans fermer le bloc « if » (il manque « {% endif %} »).")
    page.fill("#mail-text", "Bonjour,\n{% if reason %}Motif : {{ reason }}{% endif %}")
    page.wait_for_selector("#preview-error[hidden]", state="attached")
    assert page.inner_text("#preview-text") == "Bonjour,\nMotif : Le certificat de référencement n'est pas lisible."

    # « Vérifier » without « Enregistrer le brouillon »: what was typed is saved first, then checked.
    page.click("#package-check button")
    page.wait_for_selector(".fr-alert--success:has-text('Le paquet de processus, avec vos brouillons, peut être déployé.')")
    assert page.input_value("#mail-subject") == "Bien reçu : demande {{ number }} du {{ submitted_at|date_fr }}"
    with portal.app_context():
        assert package.draft_value("mails")["accuse_reception"]["html"] == "<p>Bonjour {{ company_name }},</p>"
